"""What the three hand-written scan scripts share: the connection (imaplib over TLS with the
benchenv CA), the broker vocabulary a user would type in, and scoring against the manifest.

The vocabulary is what a user would copy from the brokers' sites, not brokerwatch's rule packs:
the genuine sender domains, the names a notice signs with, a few words per notice kind.
"""

import argparse
import email.utils
import imaplib
import json
import re
import ssl
import sys
import time

BROKER_DOMAINS = {
    "sbi": ["sbisec.co.jp"],
    "rakuten": ["rakuten-sec.co.jp"],
    "monex": ["monex.co.jp"],
    "matsui": ["matsui.co.jp"],
    "kabucom": ["kabu.com"],
    "schwab": ["schwab.com"],
    "fidelity": ["fidelity.com"],
    "vanguard": ["vanguard.com", "e-vanguard.com"],
    "ibkr": ["interactivebrokers.com", "interactivebrokers.co.uk", "interactivebrokers.ie", "ibkr.com"],
}
ALL_DOMAINS = [d for ds in BROKER_DOMAINS.values() for d in ds]

BROKER_NAMES = re.compile(
    r"SBI証券|楽天証券|マネックス証券|松井証券|カブコム|kabucom|Schwab|Fidelity|Vanguard|"
    r"Interactive\s+Brokers|IBKR",
    re.I,
)
# The notices worth reading at once, by their usual words.
SECURITY_WORDS = re.compile(
    r"出金|振込先|出金先|メールアドレス.{0,10}(変更|登録)|ログイン|パスワード|認証|暗証|"
    r"withdraw|transfer|disbursement|e-?mail address|password|log ?in|sign.?in|security code|"
    r"two-step|bank (account )?(added|linked)|moneylink",
    re.I,
)
DMARC_FAIL = re.compile(r"dmarc=fail", re.I)


def broker_of_domain(domain):
    domain = domain.lower().rstrip(".")
    for broker, domains in BROKER_DOMAINS.items():
        if any(domain == d or domain.endswith("." + d) for d in domains):
            return broker
    return None


def judge(from_header, subject, text, auth_results):
    """A user's regex verdict: ("notice"|"phishing"|None, broker-or-name, security?).

    Notice: sent from a broker domain (and not failing DMARC). Phishing: names a broker in the
    display name, subject or text but comes from elsewhere, or fails DMARC from a broker domain.
    """
    name, address = email.utils.parseaddr(from_header or "")
    domain = address.rsplit("@", 1)[-1] if "@" in address else ""
    broker = broker_of_domain(domain) if domain else None
    security = bool(SECURITY_WORDS.search(subject or "") or SECURITY_WORDS.search(text or ""))
    if broker:
        if any(DMARC_FAIL.search(ar) for ar in auth_results):
            return "phishing", broker, security
        return "notice", broker, security
    claimed = BROKER_NAMES.search(name or "") or BROKER_NAMES.search(subject or "") or BROKER_NAMES.search(text or "")
    if claimed:
        return "phishing", claimed.group(0), security
    return None, None, security


def args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--env", required=True, help="JSON: host, port, ca_file, user, password")
    ap.add_argument("--manifest", required=True, help="the corpus manifest (gen_corpus.py)")
    ap.add_argument("--mailbox", default="INBOX")
    return ap.parse_args()


def connect(env_path):
    env = json.load(open(env_path))
    ctx = ssl.create_default_context(cafile=env["ca_file"])
    m = imaplib.IMAP4_SSL(env.get("host", "127.0.0.1"), env["port"], ssl_context=ctx)
    m.login(env["user"], env["password"])
    return m


def check(typ, data, what):
    if typ != "OK":
        raise RuntimeError("%s failed: %r" % (what, data))
    return data


def fetch_items(data):
    """(meta bytes, payload bytes) pairs of an imaplib FETCH reply (skips the closing ')')."""
    return [(d[0], d[1]) for d in data if isinstance(d, tuple)]


UID_RE = re.compile(rb"UID (\d+)")


def score(manifest, found):
    """{"notice"|"phishing": {found, expected, false}} of `found` (Message-ID -> verdict)."""
    kind = {e["message_id"]: e["kind"] for e in manifest["mails"]}
    out = {}
    for k in ("notice", "phishing"):
        expected = {m for m, v in kind.items() if v == k}
        got = {m for m, v in found.items() if v == k}
        out[k] = {"found": len(got & expected), "expected": len(expected), "false": len(got - expected)}
    return out


def describe(s):
    return "notices %d/%d (+%d false), phishing %d/%d (+%d false)" % (
        s["notice"]["found"], s["notice"]["expected"], s["notice"]["false"],
        s["phishing"]["found"], s["phishing"]["expected"], s["phishing"]["false"])


def report(tool, manifest_path, messages, nbytes, found, started):
    """Prints the score against the manifest: stderr for people, one JSON line on stdout."""
    s = score(json.load(open(manifest_path)), found)
    print("%s: %d messages, %.1f MB fetched; %s" % (tool, messages, nbytes / 1e6, describe(s)), file=sys.stderr)
    print(json.dumps({"tool": tool, "messages": messages, "bytes": nbytes,
                      "seconds_inside": time.monotonic() - started, **s}))


def message_id(value):
    return (value or "").strip().strip("<>").strip()
