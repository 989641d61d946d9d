/*
 * kinds.h - the kinds of worker this folder provides (core/kind.h has what
 * each is): main picks one for the run.
 */
#ifndef PCOPY_KINDS_H
#define PCOPY_KINDS_H

#include "core/kind.h"

/* Threads of this process (--mode=thread). */
extern const struct worker_kind thread_kind;

/* Forked processes sharing the queue by mmap (--mode=process). */
extern const struct worker_kind process_kind;

#endif
