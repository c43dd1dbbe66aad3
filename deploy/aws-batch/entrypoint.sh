#!/bin/sh
# The grader image's entrypoint on AWS Batch (see deploy/aws-batch/README.md):
#   shard [GRADER COHORT ARGS...]  audit this array child's shard of the roster
#       s3://$RESULTS_BUCKET/rosters/$AUDIT_ID.csv and upload its cohort document to
#       s3://$RESULTS_BUCKET/shards/$AUDIT_ID/shard-K-of-N.json (extra arguments, such as
#       `--all` or `--lab alb`, go to `grader cohort`);
#   merge  download the N shard documents and upload the merged report, one file per format
#       of $REPORT_FORMATS (default "html csv json"), to s3://$RESULTS_BUCKET/reports/$AUDIT_ID/.
# Set by the job definition: RESULTS_BUCKET. At submit time: AUDIT_ID and SHARDS (N).
# Exit codes: 0 done (whatever the accounts' verdicts: they are in the report), 2 a usage
# error or missing shard documents (neither is retried by the job definition), otherwise the
# failing command's code.
# -f: nothing here is a file pattern, so a `*` in a variable stays a `*`.
set -euf

fail() {
  echo "batch-entrypoint: $1" >&2
  exit "${2:-1}"
}

usage() {
  fail "$1 (usage: entrypoint.sh shard [GRADER COHORT ARGS...] | merge; needs RESULTS_BUCKET, AUDIT_ID, SHARDS)" 2
}

# Checked before any download, so a mistyped submit fails in seconds with a clear message.
[ -n "${RESULTS_BUCKET:-}" ] || usage "RESULTS_BUCKET is not set"
[ -n "${AUDIT_ID:-}" ] || usage "AUDIT_ID is not set"
case $AUDIT_ID in
  *[!A-Za-z0-9._-]* | .* ) usage "AUDIT_ID \`$AUDIT_ID\` may hold only letters, digits, \`.\`, \`_\` and \`-\`, and not start with \`.\`" ;;
esac
case ${SHARDS:-} in
  '' | *[!0-9]* | 0*) usage "SHARDS \`${SHARDS:-}\` is not a whole number from 1" ;;
esac
[ "$SHARDS" -le 10000 ] || usage "SHARDS $SHARDS is more than an array job's 10,000 children"

bucket="s3://$RESULTS_BUCKET"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `grader cohort` exits 1 when an account did not pass: the audit itself worked, and a failed
# Batch job would keep the merge from running. Anything else is the job's failure.
run_grader() {
  status=0
  grader "$@" || status=$?
  case $status in
    0 | 1) ;;
    *) fail "grader exited with $status" "$status" ;;
  esac
}

shard() {
  if [ "$SHARDS" -eq 1 ]; then
    # An array job has at least two children; one shard is a plain job with no index.
    which=1/1
    number=1
  else
    which=auto/$SHARDS
    number=
  fi
  aws s3 cp --only-show-errors "$bucket/rosters/$AUDIT_ID.csv" "$work/roster.csv" \
    || fail "could not download $bucket/rosters/$AUDIT_ID.csv (uploaded under that name?)"
  run_grader cohort --roster "$work/roster.csv" --shard "$which" --format json --output "$work/shard.json" "$@"
  # The grader has read and checked the index (the same variables, in the same order); the
  # document's name repeats it, 1-based.
  if [ -z "$number" ]; then
    index=${AWS_BATCH_JOB_ARRAY_INDEX:-${JOB_COMPLETION_INDEX:-}}
    case $index in
      '' | *[!0-9]*) fail "the array index \`$index\` is not a number, yet the grader took it" ;;
    esac
    number=$((index + 1))
  fi
  key="shards/$AUDIT_ID/shard-$number-of-$SHARDS.json"
  aws s3 cp --only-show-errors --content-type application/json "$work/shard.json" "$bucket/$key"
  echo "batch-entrypoint: shard $number of $SHARDS written to $bucket/$key"
}

merge() {
  [ "$#" -eq 0 ] || usage "merge takes no arguments"
  formats=${REPORT_FORMATS:-html csv json}
  for format in $formats; do
    case $format in
      html | csv | json | gradebook | junit | human) ;;
      *) usage "REPORT_FORMATS: unknown format \`$format\` (html, csv, json, gradebook, junit, human)" ;;
    esac
  done
  # Only this run's documents (-of-N): a stale one from an earlier run with another N would
  # overlap, and the merge would refuse it.
  aws s3 cp --only-show-errors --recursive --exclude '*' --include "shard-*-of-$SHARDS.json" \
    "$bucket/shards/$AUDIT_ID/" "$work/shards/"
  # A shard document that is missing would leave its accounts out of the report without a
  # word: refuse instead. The positional parameters become the list of documents.
  missing=""
  k=1
  while [ "$k" -le "$SHARDS" ]; do
    file="$work/shards/shard-$k-of-$SHARDS.json"
    if [ -f "$file" ]; then set -- "$@" "$file"; else missing="$missing $k"; fi
    k=$((k + 1))
  done
  # S3 reads what was written, and the merge starts only after every shard succeeded: a gap
  # means a wrong AUDIT_ID or SHARDS, which trying again would not mend.
  [ -z "$missing" ] || fail "missing shard documents of $SHARDS under $bucket/shards/$AUDIT_ID/:$missing" 2
  for format in $formats; do
    case $format in
      html) name=cohort.html type=text/html ;;
      csv) name=cohort.csv type=text/csv ;;
      json) name=cohort.json type=application/json ;;
      gradebook) name=gradebook.csv type=text/csv ;;
      junit) name=cohort.xml type=application/xml ;;
      human) name=cohort.txt type=text/plain ;;
    esac
    run_grader cohort merge "$@" --format "$format" --output "$work/$name"
    aws s3 cp --only-show-errors --content-type "$type; charset=utf-8" "$work/$name" "$bucket/reports/$AUDIT_ID/$name"
    echo "batch-entrypoint: wrote $bucket/reports/$AUDIT_ID/$name"
  done
}

mode=${1:-}
[ "$#" -eq 0 ] || shift
case $mode in
  shard) shard "$@" ;;
  merge) merge "$@" ;;
  *) usage "unknown mode \`$mode\`" ;;
esac
