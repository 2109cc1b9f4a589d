"""The desk page's server-side sessions (no browser): the cookie holds a random session id, never the key; the
ledger keeps its hash only; a session ends at 签退, after its idle time and when its key is revoked; a cookie
from before sessions (holding a key) is refused cleanly. Each refusal is the sign-in page, 401, in Chinese."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mednet.ledger import create_key, revoke_key
from mednet.ledger.sessions import KEEP_ENDED, end_idle_sessions, session_hash, session_key
from mednet.ledger.store import desk_sessions
from service.app import create_app
from service.config import Settings
from tests.service.conftest import REGIONS_DIR

OWN = {"Origin": "http://testserver"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app(Settings(regions_dir=REGIONS_DIR, data_dir=tmp_path_factory.mktemp("ledger"),
                              desk_idle_minutes=20))
    with TestClient(app):
        app.state.loader.thread.join()
        yield app


def new_key(app, label: str = "华埠"):
    return create_key(app.state.ledger.engine, role="desk", label=label, region="quzhou", institution="kh-huabu")


def sign_in(app, text: str) -> tuple[TestClient, str]:
    client = TestClient(app)
    answer = client.post("/desk/signin", data={"key": text}, headers=OWN, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client, client.cookies["mednet_desk"]


def stored_sessions(app) -> list[dict]:
    with app.state.ledger.engine.connect() as conn:
        return [dict(r) for r in conn.execute(desk_sessions.select()).mappings()]


def refused(client: TestClient, words: str) -> None:
    page = client.get("/desk/quzhou/worklist")
    assert page.status_code == 401 and words in page.text, page.text
    assert 'mednet_desk=""' in page.headers.get("set-cookie", "")  # the dead cookie is cleared


def test_the_cookie_holds_a_random_session_id_and_the_ledger_its_hash_only(app):
    key, text = new_key(app)
    client, token = sign_in(app, text)
    assert token.startswith("ms_") and text not in token and key.id not in token
    assert client.get("/desk/quzhou/worklist").status_code == 200
    mine = [s for s in stored_sessions(app) if s["key_id"] == key.id]
    assert [s["id_sha256"] for s in mine] == [session_hash(token)]
    assert token not in repr(stored_sessions(app))
    _, second = sign_in(app, text)  # each sign-in its own session
    assert second != token
    again = client.post("/desk/signin", data={"key": text}, headers=OWN, follow_redirects=False)
    assert again.status_code == 303  # signing in again in the same browser ends the session it replaces
    assert session_hash(token) not in {s["id_sha256"] for s in stored_sessions(app)}


def test_signing_out_ends_the_session_on_the_server(app):
    _, text = new_key(app)
    client, token = sign_in(app, text)
    assert client.post("/desk/signout", headers=OWN, follow_redirects=False).status_code == 303
    assert session_hash(token) not in {s["id_sha256"] for s in stored_sessions(app)}
    replay = TestClient(app, cookies={"mednet_desk": token})  # a copy of the cookie kept from before
    refused(replay, "您已签退或登录已失效")


def test_a_session_ends_after_its_idle_time(app):
    key, text = new_key(app)
    client, _ = sign_in(app, text)
    with app.state.ledger.engine.begin() as conn:  # 19 minutes without use: still signed in, and used again now
        conn.execute(desk_sessions.update().where(desk_sessions.c.key_id == key.id)
                     .values(last_used_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=19)))
    assert client.get("/desk/quzhou/worklist").status_code == 200
    with app.state.ledger.engine.connect() as conn:
        used = conn.execute(sa.select(desk_sessions.c.last_used_at).where(desk_sessions.c.key_id == key.id)).scalar()
    assert dt.datetime.now(dt.UTC) - used < dt.timedelta(minutes=1)
    with app.state.ledger.engine.begin() as conn:  # then 21 minutes: over (MEDNET_DESK_IDLE_MINUTES=20)
        conn.execute(desk_sessions.update().where(desk_sessions.c.key_id == key.id)
                     .values(last_used_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=21)))
    refused(client, "登录已超时")
    assert key.id in {s["key_id"] for s in stored_sessions(app)}  # kept (never usable) to say why it ended


def test_a_live_stream_reconnecting_keeps_no_session_alive_and_ends_none(app):
    key, text = new_key(app, "华埠 工作台")
    client, token = sign_in(app, text)

    def idle_for(minutes: float) -> None:
        with app.state.ledger.engine.begin() as conn:
            conn.execute(desk_sessions.update().where(desk_sessions.c.key_id == key.id)
                         .values(last_used_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)))

    def last_used() -> dt.datetime:
        return next(s["last_used_at"] for s in stored_sessions(app) if s["key_id"] == key.id)

    idle_for(19)
    before = last_used()
    engine = app.state.ledger.engine
    assert session_key(engine, token, idle=dt.timedelta(minutes=20), touch=False).id == key.id  # the stream's look
    assert last_used() == before  # not the clerk's doing: the session's last use stays where it was
    stream = TestClient(app, cookies={"mednet_desk": token})  # the page's EventSource, reconnecting by itself
    idle_for(21)
    with stream.stream("GET", "/desk/quzhou/worklist/events") as answer:  # the reconnect after the idle time
        assert answer.status_code == 401 and "event: signin" in answer.read().decode()
    refused(client, "登录已超时")  # not "signed out": the reconnect ended nothing
    refused(TestClient(app, cookies={"mednet_desk": token}), "登录已超时")  # and it says so each time
    end_idle_sessions(engine, idle=dt.timedelta(minutes=20))
    assert key.id in {s["key_id"] for s in stored_sessions(app)}
    end_idle_sessions(engine, idle=dt.timedelta(minutes=20), now=dt.datetime.now(dt.UTC) + KEEP_ENDED)
    assert key.id not in {s["key_id"] for s in stored_sessions(app)}


def test_revoking_the_key_ends_its_sessions_at_once(app):
    key, text = new_key(app)
    client, _ = sign_in(app, text)
    other, _ = sign_in(app, text)
    revoke_key(app.state.ledger.engine, key.id)
    assert key.id not in {s["key_id"] for s in stored_sessions(app)}
    refused(client, "请重新登录")
    refused(other, "请重新登录")
    again = TestClient(app).post("/desk/signin", data={"key": text}, headers=OWN)
    assert again.status_code == 401 and "密钥无效或已吊销" in again.text


@pytest.mark.parametrize("old", ["mk_0123456789_abcdefghijklmnopqrstuvwxyz01", "nonsense", "ms_forged"])
def test_an_old_cookie_holding_a_key_or_a_stranger_s_value_is_refused_cleanly(app, old):
    _, text = new_key(app)
    client = TestClient(app, cookies={"mednet_desk": text if old.startswith("mk_") else old})
    refused(client, "请重新输入密钥登录" if not old.startswith("ms_") else "请重新登录")
    assert client.get("/desk/signin").status_code == 200  # and the sign-in form is there
