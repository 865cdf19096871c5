# lab/labreport: the report program (run and matrix reports, charts,
# compare, the index) with gnuplot, which draws its charts, and the classic
# study's published figures. run.sh uses it in Docker mode, so that a
# machine with only Docker gets the same bytes as a native run.
FROM lab/builder AS build

FROM lab/runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends gnuplot-nox \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
ENV LAB_DATA_DIR=/usr/local/share/lab
COPY --from=build /src/data/ /usr/local/share/lab/
COPY --from=build /src/build/bin/labreport /usr/local/bin/labreport
USER lab
ENTRYPOINT ["labreport"]
