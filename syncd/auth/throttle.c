/*
 * throttle.c - local failures in a row and their delay (throttle.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"
#include "xmalloc.h"

struct slot {
	char key[72];                /* "" unused */
	int failures;
	time_t last;                 /* time of the last failure */
};

struct throttle {
	pthread_mutex_t mu;
	int attempts;
	long long delay;
	struct slot slots[THROTTLE_SLOTS];
};

struct throttle *
throttle_new(int attempts, long long delay)
{
	struct throttle *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if (pthread_mutex_init(&t->mu, NULL) != 0) {
		free(t);
		return NULL;
	}
	t->attempts = attempts > 0 ? attempts : 1;
	t->delay = delay;
	return t;
}

void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static struct slot *
find(struct throttle *t, const char *key)
{
	size_t i;

	for (i = 0; i < THROTTLE_SLOTS; i++)
		if (strcmp(t->slots[i].key, key) == 0)
			return &t->slots[i];
	return NULL;
}

long long
throttle_check(struct throttle *t, const char *key, time_t now)
{
	struct slot *s;
	long long left = 0;

	pthread_mutex_lock(&t->mu);
	s = find(t, key);
	if (s != NULL && s->failures >= t->attempts) {
		left = (long long)s->last + t->delay - (long long)now;
		if (left < 0)
			left = 0;
	}
	pthread_mutex_unlock(&t->mu);
	return left;
}

int
throttle_fail(struct throttle *t, const char *key, time_t now)
{
	struct slot *s, *old;
	size_t i;
	int n;

	pthread_mutex_lock(&t->mu);
	if ((s = find(t, key)) == NULL) {
		old = &t->slots[0];
		for (i = 0; i < THROTTLE_SLOTS; i++) {
			if (t->slots[i].key[0] == '\0') {
				old = &t->slots[i];
				break;
			}
			if (t->slots[i].last < old->last)
				old = &t->slots[i];
		}
		s = old;
		memset(s, 0, sizeof(*s));
		snprintf(s->key, sizeof(s->key), "%s", key);
	}
	if (s->failures < 1000000)
		s->failures++;
	s->last = now;
	n = s->failures;
	pthread_mutex_unlock(&t->mu);
	return n;
}

void
throttle_success(struct throttle *t, const char *key)
{
	struct slot *s;

	pthread_mutex_lock(&t->mu);
	if ((s = find(t, key)) != NULL)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&t->mu);
}
