// SPDX-License-Identifier: MIT
/* Every program loads, and what the verifier thought of each. */
#include <string.h>
#include "ktest.h"

static unsigned int progs, empty;

static void print_stat(const char *prog, unsigned int insns, void *ctx)
{
	(void)ctx;
	progs++;
	if (!insns)
		empty++;
	kt_info("%-24s %7u instructions processed", prog, insns);
}

static void every_program_verified(void)
{
	KT_EXPECT(!ts_kernel_verifier_stats(kt_kernel, print_stat, NULL), "no statistics");
	KT_EXPECT(progs >= 25, "only %u programs", progs);
	KT_EXPECT_EQ(empty, 0);
}

int main(void)
{
	static const struct kt_case cases[] = {
		{ "every program verified", every_program_verified },
		{ 0 },
	};
	static const struct ts_kernel_opts opts = { .verifier_stats = true };

	return kt_main_opts("verifier", cases, &opts);
}
