/*
 * main_mpi.c - pcopy-mpi: MPI ranks, rank 0 walking and reporting, the
 * others its workers (transport/mpi.h).
 */
#include "cli/pcopy.h"

#include "transport/mpi.h"

static const struct worker_kind *ranks(const struct options *o)
{
	(void)o;
	return &mpi_kind;
}

int main(int argc, char **argv)
{
	struct launch how = { .kind = ranks, .agree = mpi_ready };
	int status;

	if (mpi_start(&argc, &argv) < 0)
		return 2;
	if (mpi_rank() > 0)
		how.serve = mpi_serve;
	status = pcopy_main(argc, argv, &how);
	mpi_end(status);
	return status;
}
