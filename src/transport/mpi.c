/*
 * mpi.c - pcopy-mpi's processes: starting MPI, agreeing to start, and
 * ending (mpi.h).
 */
#include "transport/mpi.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "report/message.h"
#include "report/output.h"
#include "transport/mpi_wire.h"

static int my_rank;           /* this process's rank */
static int world_size;        /* ranks in the run */
static int serving;           /* mpi_ready let the run start: rank 0 owes END */
static int saved_stderr = -1; /* ranks > 0: stderr, kept aside until mpi_ready */

/* Ranks > 0 print nothing themselves: rank 0 owns the terminal. */
static void discard_output(int fd, const char *buf, size_t len)
{
	(void)fd;
	(void)buf;
	(void)len;
}

int mpi_start(int *argc, char ***argv)
{
	int provided = 0;
	sigset_t stops;

	/*
	 * Blocked before MPI starts its own threads, which inherit the mask:
	 * else mpirun's SIGTERM (it sends one to every rank on SIGINT) lands
	 * in one of them and kills the rank outright, temporaries and all.
	 */
	mpi_stop_signals(&stops);
	pthread_sigmask(SIG_BLOCK, &stops, NULL);
	if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
		report_message("cannot start MPI");
		return -1;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &world_size);
	if (provided < MPI_THREAD_SERIALIZED) {
		if (my_rank == 0)
			report_message("this MPI cannot be called from more than one thread "
				       "(MPI_THREAD_SERIALIZED)");
		MPI_Finalize();
		return -1;
	}
	if (my_rank > 0) {
		/* Until mpi_ready, whatever a rank would say rank 0 says too: once. */
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		output_redirect(discard_output);
		if (null >= 0) {
			saved_stderr = dup(STDERR_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			close(null);
		}
	}
	return 0;
}

int mpi_rank(void)
{
	return my_rank;
}

int mpi_ready(struct options *o, int ready)
{
	int mine = ready ? world_size : my_rank, first_unready = 0;

	MPI_Allreduce(&mine, &first_unready, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (my_rank > 0 && saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	if (first_unready < world_size) {
		if (my_rank == 0 && first_unready > 0)
			report_message("rank %d cannot start with these options (are the files "
				       "they name on a shared file system?)",
				       first_unready);
		return -1;
	}
	if (world_size < 2) {
		report_message("pcopy-mpi needs 2 ranks or more (mpirun -np N): rank 0 walks, "
			       "the others copy");
		return -1;
	}
	o->jobs = o->jobs_max = world_size - 1; /* the ranks are the workers: no more */
	o->jobs_adaptive = false;
	serving = 1;
	return 0;
}

void mpi_end(int status)
{
	/*
	 * Stopped by a signal: mpirun is tearing the job down, and would let
	 * MPI_Finalize wait for it until its SIGKILL comes.
	 */
	if (status >= 128)
		return;
	if (my_rank == 0 && serving)
		for (int rank = 1; rank < world_size; rank++)
			MPI_Send(NULL, 0, MPI_BYTE, rank, TAG_END, MPI_COMM_WORLD);
	MPI_Finalize();
}
