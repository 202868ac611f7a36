#!/usr/bin/env bash
# Runs a plan's generated/<plan>/compose.yaml as containers of lab:latest:
#
#   deploy/stack.sh up          docker compose (v2) or docker-compose (1.29)
#   deploy/stack.sh down        removes every container and network of up
#   deploy/stack.sh up-swarm    docker stack deploy on this node's swarm
#   deploy/stack.sh down-swarm  removes the stack (and the swarm, if up-swarm
#                               made it)
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
[ -n "$PLAN" ] || die "PLAN is required, e.g. make up PLAN=smoke WORKERS=4"
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
swarm_marker=.lab/swarm-made-by-up-swarm

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
compose() {
  if docker compose version >/dev/null 2>&1; then
    docker compose -p "$project" "${files[@]}" "$@"
  elif command -v docker-compose >/dev/null 2>&1; then
    docker-compose -p "$project" "${files[@]}" "$@"
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
}

up_swarm() {
  export LAB_SHOP_CONTAINER=${shop_container:-${project}_shop}
  mkdir -p "$LAB_RESULTS" .lab
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    touch "$swarm_marker"
    echo "made a single-node swarm (make down-swarm leaves it)" >&2
  fi
  docker stack deploy "${stack_files[@]}" "$project"
  local master="" i
  for i in $(seq 120); do
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
    local i
    for i in $(seq 120); do
      if [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$project")" ] &&
        [ -z "$(docker network ls -q --filter "label=com.docker.stack.namespace=$project")" ]; then
        break
      fi
      sleep 0.5
    done
  fi
  if [ -f "$swarm_marker" ]; then
    docker swarm leave --force >/dev/null
    # swarm init made the bridge to the outside too; leave does not remove it.
    docker network rm docker_gwbridge >/dev/null 2>&1 || true
    rm -f "$swarm_marker"
  fi
}

case "$action" in
up) up ;;
down) down ;;
up-swarm) up_swarm ;;
down-swarm) down_swarm ;;
*) die "usage: deploy/stack.sh up|down|up-swarm|down-swarm (with PLAN=…)" ;;
esac
