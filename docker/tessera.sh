#!/bin/sh
# `tessera` on PATH for quorum-peerd (PRIVACY=auto looks for it there): runs
# the distribution copied from the official Tessera image (/tessera), in
# either of its layouts:
#  - 21.x and newer: the start script bin/tessera, which finds java on PATH
#    (Debian's openjdk-17-jre-headless) or in JAVA_HOME;
#  - up to 21.4 (the 0.10.x/1.x Tessera of Quorum 2.7.0, ...): an uber jar,
#    tessera-app.jar, run with `java $JAVA_OPTS -jar` (JAVA_HOME's java if
#    set). Those releases were built for Java 8/11; JDK 17 is what the image
#    has.
if [ -x /tessera/bin/tessera ]; then
	exec /tessera/bin/tessera "$@"
fi
if [ -f /tessera/tessera-app.jar ]; then
	# JAVA_OPTS is a list of JVM options, split on spaces like Tessera's
	# own start script does.
	# shellcheck disable=SC2086
	exec "${JAVA_HOME:+$JAVA_HOME/bin/}java" $JAVA_OPTS \
		-jar /tessera/tessera-app.jar "$@"
fi
echo "tessera: neither /tessera/bin/tessera nor /tessera/tessera-app.jar" \
	"in this image (TESSERA_IMAGE)" >&2
exit 127
