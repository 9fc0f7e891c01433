# Shared by tools/bench/mixed.sh and int8-decode.sh: checks ROUNDS and the
# presets named on the command line against the SHAPE table, with a
# one-line error and exit status 2 for anything else.
check_args() {
	if ! [[ $ROUNDS =~ ^[1-9][0-9]{0,2}$ ]]; then
		echo "$0: ROUNDS must be a whole number from 1 to 999, not '$ROUNDS'" >&2
		exit 2
	fi
	for p in $PRESETS; do
		if [ -z "${SHAPE[$p]+set}" ]; then
			echo "$0: unknown preset '$p' (known: ${!SHAPE[*]})" >&2
			exit 2
		fi
	done
}
