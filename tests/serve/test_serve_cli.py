"""``banscan token create`` and ``banscan serve``'s start-up checks."""

from __future__ import annotations

import re

from servekit import cli


def test_token_create_prints_only_the_token_and_stores_a_digest(capsys, tmp_path) -> None:
    db = str(tmp_path / "t.db")
    code, out, err = cli(capsys, "token", "create", "--name", "ci", "--scopes", "ingest,read", "--db", db)
    assert code == 0, err
    token = out.strip()
    assert re.fullmatch(r"bsn_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", token), out
    assert out == token + "\n"
    from sqlalchemy import select

    from banscan.serve.tokens import TokenVerifier
    from banscan.store import open_store
    from banscan.store.service_tables import api_tokens

    with open_store(db) as st:
        rows = st.engine.connect().execute(select(api_tokens)).all()
        assert len(rows) == 1 and token.split("_")[2] not in (rows[0].hash, rows[0].salt)
        p = TokenVerifier(st.engine).verify(token)
        assert p is not None and p.name == "ci" and p.scopes == {"ingest", "read"}
        assert TokenVerifier(st.engine).verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    code, _, err = cli(capsys, "token", "create", "--name", "x", "--scopes", "read,superuser", "--db", db)
    assert code == 2 and "unknown scope 'superuser'" in err and "Traceback" not in err


def test_serve_refuses_a_public_address_without_tls(capsys, tmp_path) -> None:
    code, _, err = cli(capsys, "serve", "--host", "0.0.0.0", "--db", str(tmp_path / "s.db"))
    assert code == 2
    assert "--certfile" in err and "--insecure-http" in err and "Traceback" not in err
    code, _, err = cli(capsys, "serve", "--certfile", str(tmp_path / "missing.pem"), "--db", str(tmp_path / "s.db"))
    assert code == 2 and "--keyfile" in err
