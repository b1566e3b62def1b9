#!/usr/bin/env python3
"""(a) The script a user would write: fetch every message (BODY.PEEK[], 200 per UID FETCH), parse
it with the `email` package and look for broker domains, broker names and security words."""

import email
import email.policy
import sys
import time
from pathlib import Path

import common

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchlib import text_of  # noqa: E402

def fetch_and_judge(m, uids):
    """Fetches the whole of each message, parses it with `email` and judges it: (found, bytes)."""
    found, nbytes = {}, 0
    for i in range(0, len(uids), 200):
        chunk = b",".join(uids[i:i + 200]).decode()
        data = common.check(*m.uid("FETCH", chunk, "(BODY.PEEK[])"), "UID FETCH")
        for _, raw in common.fetch_items(data):
            nbytes += len(raw)
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            verdict, _, _ = common.judge(str(msg.get("From", "")), str(msg.get("Subject", "")),
                                         text_of(msg), [str(h) for h in msg.get_all("Authentication-Results", [])])
            if verdict:
                found[common.message_id(msg.get("Message-ID"))] = verdict
    return found, nbytes


def main():
    a = common.args(__doc__)
    started = time.monotonic()
    m = common.connect(a.env)
    common.check(*m.select(a.mailbox, readonly=True), "EXAMINE")
    uids = common.check(*m.uid("SEARCH", None, "ALL"), "UID SEARCH")[0].split()
    found, nbytes = fetch_and_judge(m, uids)
    m.logout()
    common.report("naive", a.manifest, len(uids), nbytes, found, started)


if __name__ == "__main__":
    main()
