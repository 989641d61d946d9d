# shellcheck shell=bash
# mpi.sh -- the pcopy-mpi and dcp rows of the main table, when mpirun is
# installed (openmpi-bin) and pcopy-mpi built (make mpi); BENCH_MPI=0 skips
# them, and QUICK runs them only with BENCH_MPI=1.  At each -np N of
# MPI_NP_LIST (N ranks are N-1 copying workers, shown beside -j N-1):
# pcopy-mpi (PCOPY_MPI), and dcp -p when BENCH_DCP names mpiFileUtils' dcp
# (its dsync, BENCH_DSYNC or beside BENCH_DCP, gets a no-op row in
# incremental.sh).  Every rank runs on this machine, through Open MPI's
# shared-memory path (OMPI_MCA_btl self,vader and OMPI_MCA_pml ob1 unless
# set): its default also starts UCX, which here only costs start-up time;
# the targets print the start-up both ways.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_mpi=0   # 1: the pcopy-mpi rows run (and the no-op one in incremental.sh)
bench_dsync=

# mpi_env: what Open MPI needs here.  It refuses root without the first
# two; all ranks are on this machine, and ob1 and vader are its
# shared-memory path (pml ucx, for network fabrics, would add about 0.17 s
# of start-up to every run).
mpi_env() {
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
	export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
}

# have_mpi: can pcopy-mpi run (walk.sh)?
have_mpi() {
	command -v mpirun >/dev/null 2>&1 && [ -x "$pcopy_mpi" ] && mpi_env
}

mpi_commands() {
	local np
	if ! knob BENCH_MPI 0 1; then
		skipped+=("pcopy-mpi and dcp rows: $([ "$quick" = 1 ] &&
			echo 'not in QUICK (BENCH_MPI=1 runs them)' || echo 'BENCH_MPI=0')")
		return
	fi
	if ! command -v mpirun >/dev/null 2>&1; then
		skipped+=("pcopy-mpi and dcp rows: mpirun not installed (openmpi-bin)")
		return
	fi
	mpi_env
	bench_dsync=${BENCH_DSYNC:-${BENCH_DCP:+$(dirname "$BENCH_DCP")/dsync}}
	if [ -x "$pcopy_mpi" ]; then
		bench_mpi=1
		for np in $mpi_np_list; do
			add_cmd mpi "$((np - 1))" mpi "pcopy-mpi -np$np" pcopy-mpi
		done
	else
		skipped+=("pcopy-mpi rows: not built at $pcopy_mpi (make mpi)")
	fi
	if [ -n "${BENCH_DCP:-}" ] && [ -x "$BENCH_DCP" ]; then
		for np in $mpi_np_list; do
			add_cmd dcp "$((np - 1))" mpi "dcp -p -np$np" dcp
		done
	else
		skipped+=("dcp rows: set BENCH_DCP=/path/to/dcp (mpiFileUtils)")
	fi
}

# startup_median [PREFIX...]: the median of 3 runs of PREFIX mpirun -np 3
# pcopy-mpi --version, which starts and stops MPI only.
startup_median() {
	local r
	for r in 1 2 3; do
		time_cmd "$@" mpirun --oversubscribe -np 3 "$pcopy_mpi" --version
		echo "$elapsed"
	done >"$work/tmp/startup"
	median <"$work/tmp/startup"
}

# The MPI targets: pcopy-mpi -np 3 at most 1.5 x pcopy process -j2 and at
# most 0.5 x dcp -p -np 3 on the small tree; MPI's start-up apart.
print_mpi_targets() {
	local m3 p2 d3
	m3=$(index_of_kind mpi 2)
	[ -n "$m3" ] && [ -n "${tree_entries[small]:-}" ] || return 0
	echo "  (pcopy-mpi: MPI start-up, mpirun -np 3 pcopy-mpi --version: $(startup_median) s,"
	echo "   included in every pcopy-mpi and dcp time above; with Open MPI's"
	echo "   default transports, UCX included: $(startup_median env -u OMPI_MCA_pml \
		-u OMPI_MCA_btl) s)"
	p2=$(index_of process 2)
	[ -n "$p2" ] && target "small: pcopy-mpi -np3 / process -j2" \
		"$(ratio "${med[small/$m3]}" "${med[small/$p2]}")" 1.50
	d3=$(index_of_kind dcp 2)
	[ -n "$d3" ] && target "small: pcopy-mpi -np3 / dcp -p -np3" \
		"$(ratio "${med[small/$m3]}" "${med[small/$d3]}")" 0.50
	return 0
}
