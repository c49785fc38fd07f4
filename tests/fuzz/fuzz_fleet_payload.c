/*
 * fuzz_fleet_payload.c - libFuzzer target for what a fleet subscriber
 * does with a "cdb-data" payload before its SHA-256 is checked (issue
 * 12): the by-ID references filled in (common/snapshot_refs.c) and the
 * cdb file rebuilt from the records (syncd/fleet/cdbdata.c).  The bytes
 * come from the network, so these run on untrusted input.
 *
 * Input: a payload (a cdb data section, references stripped).  Seeds:
 * tests/fuzz/corpus_fleet_payload (the data sections of test snapshots).
 *
 * The oracle, besides the sanitizers: a payload that rebuilds gives a
 * file whose data section is the filled payload, byte for byte, and whose
 * own payload (cdbdata_payload) is as long as the one that came in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdbdata.h"
#include "snapshot_refs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *pay = malloc(size ? size : 1), *file = NULL, *again;
	size_t flen = 0, start, end, alen;
	char err[256];

	if (pay == NULL)
		return 0;
	memcpy(pay, data, size);
	if (cdbdata_file(pay, size, &file, &flen, err, sizeof(err)) == 0) {
		/* pay now holds the filled section: the file's own. */
		if (cdbdata_section(file, flen, &start, &end) != 0 ||
		    end - start != size || memcmp(file + start, pay, size) != 0)
			__builtin_trap();
		if (cdbdata_payload(file, flen, &again, &alen) == 0) {
			if (alen != size)
				__builtin_trap();
			free(again);
		}
	}
	free(file);
	free(pay);
	return 0;
}
