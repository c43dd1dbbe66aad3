#!/usr/bin/env bash
# The Fargate lab's build checks (step-1 .. step-9) as a bash script around the AWS CLI.
#
# A baseline for `scripts/bench`: what a course author would write without the grader.
# One `aws` command after another, answers picked with the CLI's own --query (JMESPath),
# so it needs nothing but the AWS CLI and curl. It reuses what an earlier check found (the
# default VPC's id, the task's public IP), as any script would. Prints one `pass CHECK-ID`
# or `fail CHECK-ID` line per check, with the lab's check ids, and exits 1 when any fails.
#
# Credentials, region and endpoint come from the environment (AWS_ACCESS_KEY_ID,
# AWS_DEFAULT_REGION, AWS_ENDPOINT_URL, ...). AWS_CLI names the `aws` command to use.
set -uo pipefail

AWS=${AWS_CLI:-aws}
CLUSTER=${CLUSTER:-fargate-course}
SERVICE=${SERVICE:-web-nginx}
FAMILY=${FAMILY:-nginx-web}
LOG_GROUP=${LOG_GROUP:-/ecs/nginx-web}
STREAM_PREFIX=${STREAM_PREFIX:-web}
SECURITY_GROUP=${SECURITY_GROUP:-nginx-web-sg}
ROLE=${EXECUTION_ROLE:-ecsTaskExecutionRole}
TRUSTED_SERVICE=ecs-tasks.amazonaws.com
EXECUTION_POLICY=arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
PORT=80

# What earlier checks found, for later ones.
VPC_ID=
PUBLIC_IPS=

# One AWS CLI call with text output; empty output (or the CLI's `None`) becomes "".
aws_text() {
  local out
  out=$("$AWS" "$@" --output text) || return 1
  [ "$out" = None ] && out=
  printf '%s' "$out"
}

# True when a --query that selects a list of booleans found something and all are true.
all_true() {
  local words
  read -r -a words <<<"$(printf '%s' "$1" | tr '\t\n' '  ')"
  [ "${#words[@]}" -gt 0 ] || return 1
  local w
  for w in "${words[@]}"; do
    [ "$w" = True ] || return 1
  done
}

check_identity() {
  local account
  account=$(aws_text sts get-caller-identity --query Account) && [ -n "$account" ]
}

check_default_vpc() {
  VPC_ID=$(aws_text ec2 describe-vpcs --filters Name=isDefault,Values=true --query 'Vpcs[0].VpcId') || return 1
  [ -n "$VPC_ID" ] || return 1
  local subnets
  subnets=$(aws_text ec2 describe-subnets --filters "Name=vpc-id,Values=$VPC_ID" --query 'length(Subnets)') || return 1
  [ "${subnets:-0}" -ge 1 ]
}

check_security_group() {
  [ -n "$VPC_ID" ] || return 1
  # Every source (IPv4 or IPv6 CIDR) of a rule that lets TCP in on $PORT.
  local opens="IpProtocol=='-1' || IpProtocol=='all' || ((IpProtocol=='tcp' || IpProtocol=='6') && (FromPort==\`null\` || ToPort==\`null\` || (FromPort<=\`$PORT\` && ToPort>=\`$PORT\`)))"
  local sources
  sources=$(aws_text ec2 describe-security-groups \
    --filters "Name=group-name,Values=$SECURITY_GROUP" "Name=vpc-id,Values=$VPC_ID" \
    --query "SecurityGroups[0].IpPermissions[?$opens].[IpRanges[].CidrIp, Ipv6Ranges[].CidrIpv6]") || return 1
  local cidrs
  read -r -a cidrs <<<"$(printf '%s' "$sources" | tr '\t\n' '  ')"
  [ "${#cidrs[@]}" -gt 0 ] || return 1
  local cidr
  for cidr in "${cidrs[@]}"; do
    case $cidr in
      0.0.0.0/0 | ::/0) return 1 ;;  # a security finding: open to the whole internet
      */32 | */128) ;;
      *) return 1 ;;                 # a whole range, not one address
    esac
  done
}

check_cluster_active() {
  local status
  status=$(aws_text ecs describe-clusters --clusters "$CLUSTER" --query 'clusters[0].status') && [ "$status" = ACTIVE ]
}

check_execution_role() {
  local trusting
  trusting=$(aws_text iam get-role --role-name "$ROLE" --query "length(to_array(Role.AssumeRolePolicyDocument.Statement)[?Effect=='Allow'
      && contains(to_array(Principal.Service), '$TRUSTED_SERVICE')
      && (contains(to_array(Action), 'sts:AssumeRole') || contains(to_array(Action), 'sts:*') || contains(to_array(Action), '*'))])") || return 1
  [ "${trusting:-0}" -ge 1 ] || return 1
  local attached
  attached=$(aws_text iam list-attached-role-policies --role-name "$ROLE" \
    --query "length(AttachedPolicies[?PolicyArn=='$EXECUTION_POLICY'])") || return 1
  [ "${attached:-0}" -ge 1 ]
}

check_log_group() {
  local retention
  retention=$(aws_text logs describe-log-groups --log-group-name-prefix "$LOG_GROUP" \
    --query "logGroups[?logGroupName=='$LOG_GROUP'].retentionInDays | [0]") && [ "$retention" = 7 ]
}

check_task_definition() {
  # The latest ACTIVE revision of the family; each entry is one setting the lab requires.
  local c='containerDefinitions[0]'
  local settings
  settings=$(aws_text ecs describe-task-definition --task-definition "$FAMILY" --query "taskDefinition.[
      networkMode=='awsvpc',
      contains(requiresCompatibilities || \`[]\`, 'FARGATE'),
      cpu=='256',
      memory=='512',
      ends_with(executionRoleArn || '', '/$ROLE'),
      contains($c.image || '', 'nginx'),
      contains($c.portMappings[].containerPort || \`[]\`, \`$PORT\`),
      $c.logConfiguration.logDriver=='awslogs',
      $c.logConfiguration.options.\"awslogs-group\"=='$LOG_GROUP',
      $c.logConfiguration.options.\"awslogs-stream-prefix\"=='$STREAM_PREFIX']") || return 1
  all_true "$settings"
}

check_service_stable() {
  local settings
  settings=$(aws_text ecs describe-services --cluster "$CLUSTER" --services "$SERVICE" --query "services[0].[
      status=='ACTIVE',
      launchType=='FARGATE' || length(capacityProviderStrategy[?starts_with(capacityProvider, 'FARGATE')] || \`[]\`) > \`0\`,
      networkConfiguration.awsvpcConfiguration.assignPublicIp=='ENABLED',
      contains(taskDefinition || '', ':task-definition/$FAMILY:'),
      length(deployments) == \`1\`,
      runningCount == desiredCount,
      desiredCount > \`0\`]") || return 1
  all_true "$settings"
}

check_public_ip() {
  local tasks enis
  tasks=$(aws_text ecs list-tasks --cluster "$CLUSTER" --service-name "$SERVICE" --desired-status RUNNING --query 'taskArns') || return 1
  [ -n "$tasks" ] || return 1
  # shellcheck disable=SC2086 # one argument per task ARN
  enis=$(aws_text ecs describe-tasks --cluster "$CLUSTER" --tasks $tasks \
    --query "tasks[?lastStatus=='RUNNING'].attachments[] | [?type=='ElasticNetworkInterface'].details[] | [?name=='networkInterfaceId'].value") || return 1
  [ -n "$enis" ] || return 1
  # shellcheck disable=SC2086 # one argument per interface id
  PUBLIC_IPS=$(aws_text ec2 describe-network-interfaces --network-interface-ids $enis \
    --query 'NetworkInterfaces[].Association.PublicIp') || return 1
  [ -n "$PUBLIC_IPS" ]
}

check_http_200() {
  [ -n "$PUBLIC_IPS" ] || return 1
  local ip body status
  for ip in $PUBLIC_IPS; do
    body=$(curl --silent --max-time 5 --write-out '\n%{http_code}' "http://$ip:$PORT/") || return 1
    status=${body##*$'\n'}
    [ "$status" = 200 ] || return 1
    [[ $body == *"Welcome to nginx"* ]] || return 1
  done
}

check_log_streams() {
  local with_events
  with_events=$(aws_text logs describe-log-streams --log-group-name "$LOG_GROUP" --log-stream-name-prefix "$STREAM_PREFIX/" \
    --query 'length(logStreams[?lastEventTimestamp || lastIngestionTime])') || return 1
  [ "${with_events:-0}" -ge 1 ]
}

failed=0
run() {
  if "check_${1//-/_}"; then
    echo "pass $1"
  else
    echo "fail $1"
    failed=1
  fi
}

# In lab order: step-1 .. step-9, with the lab's check ids.
run identity
run default-vpc
run security-group
run cluster-active
run execution-role
run log-group
run task-definition
run service-stable
run public-ip
run http-200
run log-streams
exit "$failed"
