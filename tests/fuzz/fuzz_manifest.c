/*
 * fuzz_manifest.c - libFuzzer target for the fleet manifest (issue 12):
 * fleet_manifest_parse, as a subscriber runs it on the JSON after the
 * signature line verified, and the writer on what it accepted.
 *
 * Input: the manifest's JSON text.  Seeds: tests/fuzz/corpus_manifest.
 *
 * The oracle, besides the sanitizers: an accepted manifest holds only
 * what the parser promises (a generation above 0, plain payload names,
 * sizes within FLEET_SNAPSHOT_MAX, at most FLEET_DELTAS_MAX deltas, each
 * from a generation below the manifest's); the writer writes it again,
 * and parsing that gives the same manifest; a refused one is all zero.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fleet_manifest zero;
	struct fleet_manifest m, again;
	char err[512], *text;
	size_t len;

	if (fleet_manifest_parse((const char *)data, size, &m, err,
	    sizeof(err)) != 0) {
		if (memcmp(&m, &zero, sizeof(m)) != 0)
			__builtin_trap();
		return 0;
	}
	if (m.generation == 0 || !fleet_name_ok(m.name) ||
	    m.size > FLEET_SNAPSHOT_MAX || m.compressed_size > FLEET_SNAPSHOT_MAX ||
	    m.ndeltas > FLEET_DELTAS_MAX)
		__builtin_trap();
	for (size_t i = 0; i < m.ndeltas; i++)
		if (m.deltas[i].from == 0 || m.deltas[i].from >= m.generation ||
		    !fleet_name_ok(m.deltas[i].name))
			__builtin_trap();
	text = fleet_manifest_write(&m, &len);
	if (text == NULL)
		__builtin_trap();
	if (fleet_manifest_parse(text, len, &again, err, sizeof(err)) != 0 ||
	    memcmp(&m, &again, sizeof(m)) != 0) {
		fprintf(stderr, "fuzz_manifest: no round trip: %s\n", err);
		__builtin_trap();
	}
	free(text);
	return 0;
}
