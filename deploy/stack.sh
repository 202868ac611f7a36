#!/usr/bin/env bash
# Runs a plan's generated/<plan>/compose.yaml as containers of lab:latest:
#
#   deploy/stack.sh up          docker compose (v2) or docker-compose (1.29)
#   deploy/stack.sh down        removes every container and network of up
#   deploy/stack.sh up-swarm    docker stack deploy on this node's swarm
#   deploy/stack.sh down-swarm  removes the stack (and the swarm, if up-swarm
#                               made it)
#
# up and up-swarm remember what they started (.lab/stacks/), so down and
# down-swarm without PLAN take down every stack of theirs still recorded
# (only LAB_PROJECT's, when that is set).
#
# up and up-swarm follow the master's output and exit with its exit code; the
# Run is written by the master to the bind-mounted results folder, so it is
# on the host in results/<plan>/ when they return. The Makefile's up, down,
# up-swarm and down-swarm targets call this with:
#
#   PLAN        the plan's name (plans/<PLAN>.hcl), required
#   WORKERS     how many worker containers (default: the plan's topology)
#   DURATION, USERS, RATE, SHAPE
#               the plan's duration, users and rate variables and its shape;
#               any other variable as LAB_VAR_<name>
#   MONITORING  1 layers compose.monitoring.yaml on top
#   EXTRA       more compose files of one's own to layer on top (space-separated)
#   LAB_TOKEN   the workers' token (default: a random one for this run)
#   LAB_RESULTS the host folder for runs (default: ./results)
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "deploy/stack.sh: $*" >&2; exit 2; }

action=${1:-}
PLAN=${PLAN:-}
swarm_marker=.lab/swarm-made-by-up-swarm
stacks=.lab/stacks

# use_plan sets the compose files and the project of PLAN.
use_plan() {
  dir=generated/$PLAN
  [ -f "$dir/compose.yaml" ] || die "$dir/compose.yaml does not exist: is plans/$PLAN.hcl a plan? (make generate writes it)"
  files=(-f "$dir/compose.yaml")
  stack_files=(-c "$dir/compose.yaml")
  if [ "${MONITORING:-}" = 1 ]; then
    [ -f "$dir/prometheus.yml" ] || die "MONITORING=1: $dir/prometheus.yml, which compose.monitoring.yaml mounts, is not written yet"
    files+=(-f "$dir/compose.monitoring.yaml")
    stack_files+=(-c "$dir/compose.monitoring.yaml")
  fi
  for f in ${EXTRA:-}; do
    files+=(-f "$f")
    stack_files+=(-c "$f")
  done
  project=${LAB_PROJECT:-lab-$PLAN}
}

# remember records that up ($1: compose or swarm) started PLAN's project.
remember() {
  mkdir -p "$stacks"
  printf '%s %s %s\n' "$1" "$PLAN" "${MONITORING:-0}" >"$stacks/$project"
}

# each_recorded runs $2 (down or down_swarm) for every stack of kind $1
# that up recorded (LAB_PROJECT's alone when that is set), and forgets it.
each_recorded() {
  local marker kind plan monitoring found=0
  for marker in "$stacks"/*; do
    [ -f "$marker" ] || continue
    if [ -n "${LAB_PROJECT:-}" ] && [ "$(basename "$marker")" != "$LAB_PROJECT" ]; then
      continue
    fi
    read -r kind plan monitoring <"$marker"
    [ "$kind" = "$1" ] || continue
    PLAN=$plan MONITORING=$monitoring
    use_plan
    project=$(basename "$marker")
    echo "taking down $project (plans/$PLAN.hcl)" >&2
    "$2"
    found=1
  done
  if [ "$found" = 0 ]; then
    echo "nothing to take down: no stack that $1 up started is recorded in $stacks (PLAN=… names one)" >&2
  fi
}

# The files' variables (deploy/compose says which they read).
[ -n "${DURATION:-}" ] && export LAB_VAR_duration=$DURATION
[ -n "${USERS:-}" ] && export LAB_VAR_users=$USERS
[ -n "${RATE:-}" ] && export LAB_VAR_rate=$RATE
[ -n "${SHAPE:-}" ] && export LAB_SHAPE=$SHAPE
[ -n "${WORKERS:-}" ] && export WORKERS
export LAB_TOKEN=${LAB_TOKEN:-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')}
export LAB_RESULTS=${LAB_RESULTS:-$PWD/results}
# The shop's container, for plans whose leak block reads its memory through
# the engine: the name compose gives it, or under Swarm its service's name.
shop_container=${LAB_SHOP_CONTAINER:-}

# compose is docker compose (v2) where the plugin exists, else docker-compose.
# docker-compose 1.29 warns on every call that it ignores the deploy keys
# the same file gives Swarm (endpoint_mode, placement …): lab wrote that
# file for both, so those lines are not the user's to read.
compose() {
  if docker compose version >/dev/null 2>&1; then
    docker compose -p "$project" "${files[@]}" "$@"
  elif command -v docker-compose >/dev/null 2>&1; then
    docker-compose -p "$project" "${files[@]}" "$@" 2> >(grep -v -e 'endpoint_mode' -e "use the 'deploy' key" -e 'Compose does not support' >&2)
  else
    die "neither docker compose nor docker-compose is installed"
  fi
}

# follow prints container $1's output until it exits and returns its code.
# Ctrl-C (or TERM) stops the run, not just the following: the master gets
# SIGTERM, stops its workers, writes what it measured marked interrupted,
# and its exit code is still returned.
follow() {
  trap 'echo "stopping the run" >&2; docker kill -s TERM "$1" >/dev/null 2>&1 || true' INT TERM
  docker logs -f "$1" || true
  local code
  code=$(docker wait "$1")
  trap - INT TERM
  return "$code"
}

up() {
  export LAB_SHOP_CONTAINER=${shop_container:-$project-shop}
  mkdir -p "$LAB_RESULTS"
  remember compose
  compose up -d --remove-orphans
  local master
  master=$(compose ps -q master)
  [ -n "$master" ] || die "the master container did not start"
  local code=0
  follow "$master" || code=$?
  # The workers end with the run; the shop is stopped, not removed, so its
  # logs can still be read. make down removes everything.
  compose stop -t 5 >/dev/null 2>&1 || true
  echo "master exited $code; runs are in $LAB_RESULTS/$PLAN/ (make down PLAN=$PLAN removes the containers)" >&2
  return "$code"
}

down() {
  compose down --volumes --remove-orphans -t 5
  rm -f "$stacks/$project"
}

up_swarm() {
  export LAB_SHOP_CONTAINER=${shop_container:-${project}_shop}
  mkdir -p "$LAB_RESULTS" .lab
  # A Compose run of the same plan holds the network name the stack needs:
  # say so before anything is made, rather than fail half-way.
  if [ -n "$(docker ps -aq --filter "label=com.docker.compose.project=$project")$(docker network ls -q --filter "label=com.docker.compose.project=$project")" ]; then
    die "a Compose run of $project is still up (make down PLAN=$PLAN takes it down): its network has the name this stack needs"
  fi
  local made=0
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    touch "$swarm_marker"
    made=1
    echo "made a single-node swarm (make down-swarm leaves it)" >&2
  fi
  remember swarm
  if ! docker stack deploy "${stack_files[@]}" "$project"; then
    # Leave the node as it was found.
    rm -f "$stacks/$project"
    if [ "$made" = 1 ]; then
      docker swarm leave --force >/dev/null 2>&1 || true
      docker network rm docker_gwbridge >/dev/null 2>&1 || true
      rm -f "$swarm_marker"
    fi
    die "docker stack deploy of $project failed (above); the node is as it was"
  fi
  local master=""
  for _ in $(seq 120); do
    master=$(docker ps -aq --filter "label=com.docker.swarm.service.name=${project}_master" | head -n1)
    [ -n "$master" ] && break
    sleep 0.5
  done
  [ -n "$master" ] || die "no master container of stack $project after 60s: docker stack ps $project says why"
  local code=0
  follow "$master" || code=$?
  echo "master exited $code; runs are in $LAB_RESULTS/$PLAN/ (make down-swarm PLAN=$PLAN removes the stack)" >&2
  return "$code"
}

down_swarm() {
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = active ]; then
    docker stack rm "$project" >/dev/null 2>&1 || true
    # stack rm returns before the containers and the network are gone.
    for _ in $(seq 120); do
      if [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$project")" ] &&
        [ -z "$(docker network ls -q --filter "label=com.docker.stack.namespace=$project")" ]; then
        break
      fi
      sleep 0.5
    done
  fi
  rm -f "$stacks/$project"
}

# leave_swarm leaves the swarm up-swarm made, once no stack of it is left.
leave_swarm() {
  if [ -f "$swarm_marker" ] && ! grep -qs '^swarm ' "$stacks"/*; then
    docker swarm leave --force >/dev/null
    # swarm init made the bridge to the outside too; leave does not remove it.
    docker network rm docker_gwbridge >/dev/null 2>&1 || true
    rm -f "$swarm_marker"
  fi
}

need_plan() {
  [ -n "$PLAN" ] || die "PLAN is required, e.g. make up PLAN=smoke WORKERS=4"
  use_plan
}

case "$action" in
up) need_plan && up ;;
up-swarm) need_plan && up_swarm ;;
down)
  if [ -n "$PLAN" ]; then use_plan && down; else each_recorded compose down; fi
  ;;
down-swarm)
  if [ -n "$PLAN" ]; then use_plan && down_swarm; else each_recorded swarm down_swarm; fi
  leave_swarm
  ;;
*) die "usage: deploy/stack.sh up|down|up-swarm|down-swarm (PLAN=… for up)" ;;
esac
