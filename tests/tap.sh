#!/bin/sh
# automake's TAP driver reads the test's standard output: ask Criterion for TAP there.
exec "$1" --tap
