#!/bin/bash
# usage: suite.sh NAME OVERRIDES_JSON GRID_JSON  -> runs wiki and cub in parallel, logs to logs/NAME_{wiki,cub}.txt
mkdir -p logs
for ds in wiki cub; do
  base=$(/usr/bin/python3 -c "import json,sys;b=json.load(open('base.json'))['$ds'];b.update(json.loads(sys.argv[1]));print(json.dumps(b))" "$2")
  /usr/bin/python3 sweep.py "$base" "$3" > logs/$1_$ds.txt 2>&1 &
done
wait
for ds in wiki cub; do echo "== $ds"; cat logs/$1_$ds.txt; done
