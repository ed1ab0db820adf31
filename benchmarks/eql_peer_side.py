"""The eql side of ``benchmarks.eql_peer_bench``: runs in the throwaway virtualenv that holds Elastic's
``eql`` (AGPL), as its own process, so that eql is never imported into chainwatch's process nor made a
dependency. It imports nothing of chainwatch's.

``python eql_peer_side.py --repeat R --gc-gen0 N FILE`` reads chainwatch's native JSON lines (in time order),
runs the EQL translation of ``privilege.escalation_chain`` below through ``eql.PythonEngine`` and prints one
JSON object: eql's version, the best CPU time of R runs end to end (``json.loads`` of each line, its time
read, an ``eql.Event`` built and streamed) and of detection alone (the same events already built, a fresh
engine), and the matches as ``[session id, [event ids in step order]]``.

The translation: ``by session_id`` plus each step's ``by arguments.userName`` stands for the rule's
``arguments.userName == $create.arguments.userName``; ``stringContains`` for ``contains``; the event type is
the event's ``kind`` (so session and credential events reach no hook), the time its ``event_time`` in
milliseconds. The collector is tuned as chainwatch's side tunes it (frozen, young collections every N
allocations), so both sides run under the same garbage-collection regime.
"""

import argparse
import gc
import json
import sys
import time
from datetime import datetime

import eql

QUERY = """
sequence by session_id with maxspan=1h
  [tool_call where action == "CreateUser" and outcome != "denied"] by arguments.userName
  [tool_call where action in ("AttachUserPolicy", "PutUserPolicy", "AddUserToGroup") and outcome != "denied"
     and (stringContains(arguments.policyArn, "AdministratorAccess")
          or stringContains(arguments.policyArn, "IAMFullAccess")
          or stringContains(arguments.policyDocument, "\\"*\\"")
          or stringContains(arguments.groupName, "dmin"))] by arguments.userName
  [tool_call where action in ("CreateAccessKey", "CreateLoginProfile") and outcome != "denied"]
     by arguments.userName
"""


def to_event(record):
    """An eql Event of one decoded line: its kind as the event type, its time in milliseconds."""
    moment = datetime.fromisoformat(record["event_time"].replace("Z", "+00:00"))
    return eql.Event(record.get("kind", "generic"), round(moment.timestamp() * 1000), record)


def new_engine(query, found):
    engine = eql.PythonEngine({"time_unit": 1000})  # timestamps in milliseconds
    engine.add_output_hook(found.append)
    engine.add_query(query)
    return engine


def end_to_end(path, query):
    found = []
    engine = new_engine(query, found)
    decode = json.JSONDecoder().decode  # what eql's own JSON-lines reader uses
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                engine.stream_event(to_event(decode(line)))
    engine.finalize()
    return found


def detect(events, query):
    found = []
    new_engine(query, found).stream_events(events)
    return found


def best_of(repeat, gen0, work):
    """Fastest CPU time of ``repeat`` runs (the least disturbed by other load) and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        threshold = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(max(threshold[0], gen0), *threshold[1:])
        try:
            start = time.process_time()
            result = work()
            times.append(time.process_time() - start)
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gc-gen0", type=int, default=50_000)
    args = parser.parse_args(argv)
    with eql.parser.ignore_missing_fields:
        query = eql.parse_query(QUERY)
    t_end_to_end, _ = best_of(args.repeat, args.gc_gen0, lambda: end_to_end(args.path, query))
    with open(args.path, encoding="utf-8") as lines:
        events = [to_event(json.loads(line)) for line in lines if line.strip()]
    t_detect, found = best_of(args.repeat, args.gc_gen0, lambda: detect(events, query))
    matches = [[o.events[0].data["session_id"], [e.data["event_id"] for e in o.events]] for o in found]
    json.dump(
        {
            "eql_version": eql.__version__,
            "events": len(events),
            "end_to_end_seconds": t_end_to_end,
            "detect_seconds": t_detect,
            "matches": matches,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
