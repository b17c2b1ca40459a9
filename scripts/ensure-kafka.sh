#!/usr/bin/env bash
# Resolves an Apache Kafka broker from Maven Central into the project-local cache
# .kafka/<version>/libs: org.apache.kafka:kafka_2.13 and its runtime dependencies, plus the
# SLF4J binding for log4j2 (so the broker's warnings and errors reach its log). The tests run
# it in KRaft mode on the machine's Java (test/support/kafka.ts; docs/kafka.md).
#
# Idempotent and fast when already resolved: a stamp file records the version, so a second
# run only checks one file. Progress goes to stderr. Maven's own cache (~/.m2) makes a
# rebuild of .kafka/ after a clean take seconds.
#
# Prints the libs directory on stdout. Knobs: STATEFUN_KAFKA_HOME (default <repo>/.kafka).
set -euo pipefail

# The newest 4.x Maven Central serves that runs on Java 17 (its classes are Java 17's).
KAFKA_VERSION="4.4.0"
SCALA_VERSION="2.13"
# log4j-core's version in kafka_2.13 4.4.0's dependencies: the binding must match it.
LOG4J_VERSION="2.25.5"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
home="${STATEFUN_KAFKA_HOME:-$repo/.kafka}"
dir="$home/$KAFKA_VERSION"
libs="$dir/libs"
stamp="$dir/.statefun-kafka-${SCALA_VERSION}-${KAFKA_VERSION}-log4j-${LOG4J_VERSION}"

if [[ -f "$stamp" ]]; then
  echo "$libs"
  exit 0
fi

log() { echo "[ensure-kafka] $*" >&2; }

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "cannot find '$tool': install Java 17 or newer and Maven (.ci/run installs both when missing)"
    exit 1
  fi
done

# Two test runs starting at once must not resolve into the same directory together.
mkdir -p "$dir"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.install-lock"
  flock 9
  if [[ -f "$stamp" ]]; then
    echo "$libs"
    exit 0
  fi
fi

started=$SECONDS
work="$dir/resolve"
rm -rf "$work" "$libs"
mkdir -p "$work"
cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.statefun</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${SCALA_VERSION}</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
EOF

log "resolving org.apache.kafka:kafka_${SCALA_VERSION}:${KAFKA_VERSION} and its runtime dependencies with Maven into $libs"
if ! mvn -q -B -Dstyle.color=never -f "$work/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$work/libs" >&2; then
  log "Maven could not resolve the broker: is Maven Central reachable (see ~/.m2/settings.xml)?"
  exit 1
fi
if ! ls "$work/libs/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar" >/dev/null 2>&1; then
  log "Maven finished but $work/libs has no kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar"
  exit 1
fi
mv "$work/libs" "$libs"
rm -rf "$work"
rm -f "$dir"/.statefun-kafka-*
touch "$stamp"
log "ready in $((SECONDS - started))s: $(ls "$libs" | wc -l) jars in $libs"
echo "$libs"
