#!/usr/bin/env python3
"""Deterministic (seeded) benchmark mailbox: ordinary mail with broker notices and phishing copies
mixed in.

Two outputs:
- `--maildir DIR`: writes straight into a Maildir (`DIR/new/`, unique base names, owned by
  `--owner`, uid 5000 by default: the benchenv Dovecot's mail uid), as an MDA would. The file
  mtime is the message's INTERNALDATE for Dovecot.
- `--plain DIR`: writes `NNNNN.eml` files (the in-process parse benchmark's corpus).

Either way a manifest (JSON) tells which Message-ID is an ordinary mail, a genuine broker notice,
a phishing copy or a decoy (a forwarded notice, a bank or shop mail about money), with the
expected verdict of the fixture it was copied from.

Ordinary mail (2-50 KB): personal notes, receipts, newsletters (multipart/alternative), mail with
base64 attachments (multipart/mixed), in English and Japanese (ISO-2022-JP, Shift_JIS, UTF-8).
A few ordinary subjects carry security words ("account", "更新") and a few bank newsletters name a
broker in their body, as real mailboxes do. The notices and phishing copies are the golden
fixtures (tests/fixtures/mail/*.eml) with fresh Message-IDs.
"""

import argparse
import base64
import json
import os
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "mail"
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import gen_fixtures as gf  # noqa: E402  (header and MIME helpers: ew, addr, text, multipart)

MX = gf.MX
CRLF = gf.CRLF
BASE_EPOCH = 1735689600  # 2025-01-01T00:00:00Z: INTERNALDATEs count up from here

EN_WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which "
    "but have an they you were her she there been one all we their has would when if so no will "
    "more about up out can what them some could time these two may first then do any like my now "
    "over such our man me even most made after also did many before must through back years where "
    "much your way well down should because each just those people how too little state good very "
    "make world still own see men work long get here between both life being under never day same "
    "another know while last might us great old year off come since against go came right used take "
    "three order delivery weekend garden coffee recipe meeting project update team photo concert "
    "ticket travel hotel flight museum library market price discount member points season sale"
).split()

JA_SENTENCES = [
    "いつもご利用いただきありがとうございます。",
    "今週の新着情報をお届けします。",
    "ご注文の商品を本日発送いたしました。",
    "週末は天気が良さそうなので、公園に行きませんか。",
    "先日の打ち合わせの資料を添付します。ご確認ください。",
    "季節のおすすめ商品をご紹介します。",
    "ポイントの有効期限が近づいています。",
    "会員限定のセールを開催中です。",
    "お問い合わせありがとうございました。担当者よりご連絡いたします。",
    "①配送状況はマイページからご確認いただけます。",
    "㈱サンプル商事　カスタマーセンター",
    "新しいレシピを公開しました。旬の野菜を使った簡単な料理です。",
    "来月の勉強会の日程が決まりました。",
    "写真を共有します。とても楽しい一日でした。",
    "本メールは送信専用のアドレスからお送りしています。",
]

JA_SUBJECTS = [
    "今週のおすすめ", "ご注文ありがとうございます", "発送のお知らせ", "週末の予定",
    "会議資料の送付", "季節のセールのご案内", "ポイント付与のお知らせ", "写真を送ります",
    "勉強会のお知らせ", "レシピ更新情報",
]
EN_SUBJECTS = [
    "Weekly digest", "Your order has shipped", "Receipt for your purchase", "Dinner on Friday?",
    "Photos from the trip", "Meeting notes", "New arrivals this week", "Concert tickets",
    "Library hold available", "Garden club newsletter", "Re: project update", "Invoice attached",
]
# Ordinary mail with security words: the kind of header brokerwatch fetches a body for.
LURE_SUBJECTS = [
    "Your account statement is ready", "Security tips for the holidays",
    "Verify your e-mail for the forum", "Password reset for your library account",
    "ポイント有効期限更新のお知らせ", "【重要】利用規約改定のお知らせ",
]
# Bank newsletters that name a broker as intermediary: not the broker's own mail.
BROKER_MENTIONS = [
    "所属金融商品取引業者 株式会社SBI証券 関東財務局長（金商）第44号",
    "楽天証券との口座連携で金利優遇。詳しくはウェブサイトをご覧ください。",
    "Transfers from Charles Schwab and Fidelity accounts are credited the next business day.",
]

SENDERS = [
    ("Garden Club", "news@garden.example.org", "en"),
    ("Book Shop", "orders@books.example.com", "en"),
    ("Alice Smith", "alice.smith@example.net", "en"),
    ("Travel Deals", "deals@travel.example", "en"),
    ("City Library", "noreply@library.example.org", "en"),
    ("サンプル商事", "info@shop.example.jp", "ja"),
    ("山田太郎", "taro.yamada@example.jp", "ja"),
    ("レシピ通信", "mag@recipe.example.jp", "ja"),
    ("サンプル銀行", "news@bank.example.jp", "ja"),
    ("Music Hall", "tickets@music.example.com", "en"),
]


def paragraph(rng, lang, charset):
    if lang == "ja":
        return "".join(rng.choice(JA_SENTENCES) for _ in range(rng.randint(3, 8)))
    words = [rng.choice(EN_WORDS) for _ in range(rng.randint(40, 90))]
    return (" ".join(words)).capitalize() + "."


class Paragraphs:
    """A fixed pool of paragraphs per language: building 300 MB word by word would take minutes."""

    def __init__(self, rng):
        self.pool = {lang: [paragraph(rng, lang, None) for _ in range(400)] for lang in ("en", "ja")}

    def fill(self, rng, lang, size, charset):
        out, n = [], 0
        while n < size:
            p = rng.choice(self.pool[lang])
            out.append(p)
            n += len(p.encode("utf-8")) + 2
        # ISO-2022-JP has no ① or ㈱ (CP932 extensions): such senders write '?' instead.
        codec = gf.CODEC[charset]
        return "\n\n".join(out).encode(codec, "replace").decode(codec)


def html_of(text_body):
    paras = "".join("<p>%s</p>\n" % p for p in text_body.split("\n\n"))
    return ("<html><head><meta charset=\"utf-8\"><style>p{font-family:sans-serif}</style></head>"
            "<body>\n<table width=\"600\"><tr><td>\n%s<a href=\"https://www.example.com/news\">"
            "https://www.example.com/news</a></td></tr></table></body></html>" % paras)


def ordinary(rng, paras, i):
    """One ordinary mail: (bytes, kind label)."""
    name, email, lang = rng.choice(SENDERS)
    roll = rng.random()
    if lang == "ja":
        charset = rng.choice(["ISO-2022-JP", "ISO-2022-JP", "Shift_JIS", "UTF-8"])
        subject = rng.choice(JA_SUBJECTS)
    else:
        charset = "UTF-8"
        subject = rng.choice(EN_SUBJECTS)
    if rng.random() < 0.05:
        subject = rng.choice(LURE_SUBJECTS)
        if not subject.isascii():
            charset = "ISO-2022-JP" if charset == "UTF-8" else charset
    # Shift_JIS and ISO-2022-JP cannot carry the subject of the other script: keep it codable.
    try:
        subject.encode(gf.CODEC[charset])
    except UnicodeEncodeError:
        charset = "UTF-8"
    # Japanese text goes base64 (QP would triple it), ISO-2022-JP is 7bit already.
    cte = {"UTF-8": "quoted-printable" if lang == "en" else "base64", "ISO-2022-JP": "7bit"}.get(
        charset, "base64")
    if roll < 0.30:
        kind = "personal"
        body = gf.text(paras.fill(rng, lang, rng.randint(2000, 6000), charset), charset,
                       "8bit" if charset == "UTF-8" else cte)
    elif roll < 0.50:
        kind = "receipt"
        body = gf.text(paras.fill(rng, lang, rng.randint(2000, 9000), charset), charset, cte)
    elif roll < 0.85:
        kind = "newsletter"
        t = paras.fill(rng, lang, rng.randint(2500, 11000), charset)
        if rng.random() < 0.04:
            t += "\n\n" + rng.choice(BROKER_MENTIONS)
        body = gf.multipart("alternative", [gf.text(t, charset, cte), gf.html(html_of(t), charset, cte)],
                            "alt-%06d" % i)
    else:
        kind = "attachment"
        att = rng.randbytes(rng.randint(9000, 30000))
        ext, ctype = rng.choice([("pdf", "application/pdf"), ("png", "image/png"), ("jpg", "image/jpeg")])
        att_part = ([
            'Content-Type: %s; name="file%05d.%s"' % (ctype, i, ext),
            'Content-Disposition: attachment; filename="file%05d.%s"' % (i, ext),
            "Content-Transfer-Encoding: base64",
        ], base64.encodebytes(att).replace(b"\n", b"\r\n"))
        note = gf.text(paras.fill(rng, lang, rng.randint(500, 4000), charset), charset, cte)
        body = gf.multipart("mixed", [note, att_part], "mix-%06d" % i)
    domain = email.rsplit("@", 1)[1]
    msgid = "%06d.ord.bench@%s" % (i, domain)
    date = gf.rfc_date(gf.datetime.datetime.fromtimestamp(BASE_EPOCH + i * 600, gf.JST))
    trace = [
        "Authentication-Results: %s; dkim=pass header.d=%s header.s=s1; spf=pass "
        "smtp.mailfrom=%s; dmarc=pass header.from=%s" % (MX, domain, domain, domain),
        "Received: from mail.%s (mail.%s [203.0.113.%d]) by %s with ESMTPS id b%06d; %s"
        % (domain, domain, i % 250 + 1, MX, i, date),
    ]
    head, raw_body, _ = gf.message(0, gf.addr(name, email, charset), gf.subj(subject, charset),
                                   body, trace, msgid=msgid, date=date)
    return head + raw_body, msgid, kind


MSGID_RE = re.compile(rb"(?im)^Message-ID:[^\r\n]*")


def fixtures():
    """(name, bytes, expected verdict) of every golden fixture."""
    out = []
    for eml in sorted(FIXTURES.glob("*.eml")):
        expected = json.loads(eml.with_suffix(".json").read_text())
        out.append((eml.name, eml.read_bytes(), expected))
    return out


def fixture_copy(raw, expected, i):
    """The fixture with a fresh Message-ID (the one header that differs between copies)."""
    domain = (expected.get("message_id") or "x@bench.example").rsplit("@", 1)[-1]
    msgid = "%06d.fix.bench@%s" % (i, domain)
    new, n = MSGID_RE.subn(b"Message-ID: <" + msgid.encode() + b">", raw, count=1)
    if n != 1:
        raise ValueError("fixture without a Message-ID header")
    return new, msgid


def kind_of(expected):
    if expected["phishing"]:
        return "phishing"
    return "notice" if expected["broker"] else "decoy"


def build(count, copies, seed):
    """Yields (index, bytes, manifest entry) in delivery order."""
    rng = random.Random(seed)
    paras = Paragraphs(rng)
    fx = fixtures()
    total = count + copies * len(fx)
    # Spread the fixture copies over the mailbox at seeded positions.
    slots = rng.sample(range(total), copies * len(fx))
    fixture_at = {pos: fx[k % len(fx)] for k, pos in enumerate(sorted(slots))}
    for i in range(total):
        if i in fixture_at:
            name, raw, expected = fixture_at[i]
            data, msgid = fixture_copy(raw, expected, i)
            entry = {"message_id": msgid, "kind": kind_of(expected), "fixture": name,
                     "broker": expected["broker"], "event": expected["event"]}
        else:
            data, msgid, kind = ordinary(rng, paras, i)
            entry = {"message_id": msgid, "kind": "ordinary", "type": kind}
        entry["bytes"] = len(data)
        yield i, data, entry


def write_maildir(maildir, count, copies, seed, owner):
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
        if owner is not None:
            os.chown(maildir / sub, owner, owner)
    if owner is not None:
        os.chown(maildir, owner, owner)
    entries = []
    for i, data, entry in build(count, copies, seed):
        t = BASE_EPOCH + i * 600
        name = "%d.M%06dP%dQ%d.bwbench" % (t, i, seed, i)
        tmp = maildir / "tmp" / name
        tmp.write_bytes(data)
        if owner is not None:
            os.chown(tmp, owner, owner)
        os.utime(tmp, (t, t))
        os.rename(tmp, maildir / "new" / name)
        entry["file"] = name
        entries.append(entry)
    return entries


def write_plain(out, count, copies, seed):
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, data, entry in build(count, copies, seed):
        name = "%05d.eml" % i
        (out / name).write_bytes(data)
        entry["file"] = name
        entries.append(entry)
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--maildir", type=Path, help="a Maildir root (gets tmp/ new/ cur/)")
    where.add_argument("--plain", type=Path, help="a directory for NNNNN.eml files")
    ap.add_argument("--manifest", type=Path, help="default: <plain dir>/manifest.json")
    ap.add_argument("--count", type=int, default=20000, help="ordinary mails (default 20000)")
    ap.add_argument("--copies", type=int, default=5, help="copies of each fixture (default 5)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--owner", type=int, default=5000, help="uid/gid for Maildir files (default 5000)")
    args = ap.parse_args()
    if args.maildir:
        owner = args.owner if os.geteuid() == 0 else None
        entries = write_maildir(args.maildir, args.count, args.copies, args.seed, owner)
        if not args.manifest:
            ap.error("--maildir needs --manifest (kept outside the Maildir)")
        manifest = args.manifest
    else:
        entries = write_plain(args.plain, args.count, args.copies, args.seed)
        manifest = args.manifest or args.plain / "manifest.json"
    kinds = {}
    for e in entries:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    total_bytes = sum(e["bytes"] for e in entries)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"seed": args.seed, "count": len(entries), "bytes": total_bytes,
                                    "kinds": kinds, "mails": entries}, ensure_ascii=False))
    print("wrote %d mails (%.1f MB): %s; manifest %s" % (
        len(entries), total_bytes / 1e6, ", ".join("%s %d" % kv for kv in sorted(kinds.items())), manifest),
        file=sys.stderr)


if __name__ == "__main__":
    main()
