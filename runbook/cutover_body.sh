
# Everything below reads only the variables above.
k() { kubectl --namespace "$NS" "$@"; }
step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'cutover: %s\n' "$*" >&2; exit 1; }

# pod_selector prints a Deployment's pod selector as k=v,k=v.
pod_selector() {
  # shellcheck disable=SC2016 # $k and $v belong to the go-template
  k get deployment "$1" -o go-template='{{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}},{{end}}' | sed 's/,$//'
}

# wait_pods_gone waits until no pod of the Deployment is left, terminating
# ones included: only then has the old version stopped writing.
wait_pods_gone() {
  local selector
  selector=$(pod_selector "$1")
  if [ -n "$(k get pods -l "$selector" -o name)" ]; then
    k wait --for=delete pod -l "$selector" --timeout="$POD_TIMEOUT"
  fi
}

# scale_to_zero records the replica count once (a rerun of this script must
# not record the zero it set itself), then scales to zero and waits.
scale_to_zero() {
  local before
  before=$(k get deployment "$1" -o jsonpath="{.metadata.annotations.$ANNOTATION}")
  if [ -z "$before" ]; then
    before=$(k get deployment "$1" -o jsonpath='{.spec.replicas}')
    k annotate deployment "$1" "$ANNOTATION=$before"
  fi
  k scale deployment "$1" --replicas=0
  wait_pods_gone "$1"
}

# wait_for_job polls instead of `kubectl wait --for=condition=complete`,
# which would sit out its whole timeout after the Job failed.
wait_for_job() {
  local deadline=$((SECONDS + JOB_TIMEOUT)) conditions
  while :; do
    conditions=$(k get job "$1" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}')
    case " $conditions " in
      *" Complete "*) return 0 ;;
      *" Failed "*)
        k logs "job/$1" --tail=50 || true
        fail "job $1 failed (exit codes: runbook section 9). Fix the cause, delete the job (kubectl -n $NS delete job $1) and run this script again: mxmigrate resumes" ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || fail "job $1 has not finished after ${JOB_TIMEOUT}s"
    sleep 10
  done
}

# run_job starts the Job unless it exists (a rerun of this script), then
# waits for it.
run_job() {
  k get job "$1" >/dev/null 2>&1 || k apply -f "$2"
  wait_for_job "$1"
}

if grep -qF "$PLACEHOLDER_IMAGE" "$MIGRATION_JOB_FILE" "$VERIFY_JOB_FILE"; then
  fail "set the mxmigrate image in $MIGRATION_JOB_FILE and $VERIFY_JOB_FILE first"
fi

step "1/6 Scale the workers to zero and wait until their pods are gone"
if [ -n "$WORKER" ]; then scale_to_zero "$WORKER"; else echo "no worker Deployment"; fi

step "2/6 Scale the leader to zero and wait until its pods are gone"
scale_to_zero "$LEADER"

step "3/6 Migrate: apply the Job and wait until it completes"
run_job "$MIGRATION_JOB" "$MIGRATION_JOB_FILE"

step "4/6 Verify with checksums"
run_job "$VERIFY_JOB" "$VERIFY_JOB_FILE"
echo "report: kubectl -n $NS logs job/$VERIFY_JOB"

step "5/6 Start the leader with the new version (strategy Recreate: no two leaders)"
# A JSON patch replaces the whole strategy: a strategic merge would keep the
# old rollingUpdate block, which the API rejects next to type Recreate.
k patch deployment "$LEADER" --type=json -p '[{"op":"replace","path":"/spec/strategy","value":{"type":"Recreate"}}]'
k patch deployment "$LEADER" --type=strategic --patch-file "$LEADER_PATCH_FILE"
k rollout status deployment "$LEADER" --timeout="$ROLLOUT_TIMEOUT"
k annotate deployment "$LEADER" "$ANNOTATION-" >/dev/null

step "6/6 Scale the workers back"
if [ -n "$WORKER" ]; then
  if [ -n "$APP_IMAGE" ]; then
    k set image deployment "$WORKER" "$WORKER_CONTAINER=$APP_IMAGE"
  else
    echo "workers start with: $(k get deployment "$WORKER" -o jsonpath='{.spec.template.spec.containers[*].image}')"
  fi
  replicas=$(k get deployment "$WORKER" -o jsonpath="{.metadata.annotations.$ANNOTATION}")
  [ -n "$replicas" ] || fail "$WORKER has lost its $ANNOTATION annotation: scale it back by hand"
  k scale deployment "$WORKER" --replicas="$replicas"
  k annotate deployment "$WORKER" "$ANNOTATION-"
  k rollout status deployment "$WORKER" --timeout="$ROLLOUT_TIMEOUT"
else
  echo "no worker Deployment"
fi

step "Done. Next: smoke tests, then the DNS or load balancer switch (runbook sections 7 and 8)"
