/*
 * parse_floor.c - the floor of a full sync's CPU for bench_sync.py: parse
 * every page body a full sync receives with json_tokener_parse, doing
 * nothing else, and print the CPU time this took.
 *
 *   parse_floor FILE     ->   pages=N bytes=B cpu_s=S stream_cpu_s=T
 *
 * FILE holds the bodies back to back, each after its length as 8 ASCII
 * hex digits.  The bodies are read into memory first; only the parsing
 * (and freeing each tree) is timed, with CLOCK_PROCESS_CPUTIME_ID, so that
 * the sync's CPU can be reported as a ratio to it on the same machine in
 * the same run.  Exits 1 if a body does not parse.
 *
 * stream_cpu_s, for information: the same bodies parsed as okta-sync
 * parses a listing's pages (okta_stream_page_why: one element at a time,
 * strictly, each freed before the next), so that the sync's CPU can be
 * split into its parse and everything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "okta.h"

static int
drop(void *ctx, json_object *item)
{
	(void)ctx, (void)item;
	return 0;
}

/* CPU seconds between two CLOCK_PROCESS_CPUTIME_ID readings. */
static double
seconds(const struct timespec *t0, const struct timespec *t1)
{
	return (double)(t1->tv_sec - t0->tv_sec) +
	    (double)(t1->tv_nsec - t0->tv_nsec) / 1e9;
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1, t2;
	json_object *o;
	char hex[9], **body;
	size_t n = 0, cap = 0, len, bytes = 0, i;
	FILE *f;

	if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
		fprintf(stderr, "usage: parse_floor FILE\n");
		return 2;
	}
	body = NULL;
	while (fread(hex, 1, 8, f) == 8) {
		hex[8] = '\0';
		len = strtoul(hex, NULL, 16);
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((body = realloc(body, cap * sizeof(*body))) == NULL)
				return 2;
		}
		if ((body[n] = malloc(len + 1)) == NULL ||
		    fread(body[n], 1, len, f) != len)
			return 2;
		body[n][len] = '\0';
		bytes += len;
		n++;
	}
	fclose(f);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (i = 0; i < n; i++) {
		if ((o = json_tokener_parse(body[i])) == NULL) {
			fprintf(stderr, "parse_floor: body %zu does not parse\n", i);
			return 1;
		}
		json_object_put(o);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	for (i = 0; i < n; i++) {
		if (okta_stream_page_why(body[i], strlen(body[i]), drop, NULL, NULL,
		    NULL) != OK_SUCCESS) {
			fprintf(stderr, "parse_floor: body %zu refused\n", i);
			return 1;
		}
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t2);
	printf("pages=%zu bytes=%zu cpu_s=%.3f stream_cpu_s=%.3f\n", n, bytes,
	    seconds(&t0, &t1), seconds(&t1, &t2));
	for (i = 0; i < n; i++)
		free(body[i]);
	free(body);
	return 0;
}
