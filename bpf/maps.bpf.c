// SPDX-License-Identifier: GPL-2.0-only
/* The one definition of every map; see maps.bpf.h. */
#define TS_DEFINE_MAPS
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "GPL";
