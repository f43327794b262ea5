"""map_isolated(): one hostile file kills only a worker; every item gets a result or a RejectedFile."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from pipeline.errors import RejectedFile
from pipeline.read.isolate import MSG_CRASH, Feed, map_isolated
from tests import hostile as h

CRASH = ("worker_crash", MSG_CRASH)


def outcomes(results: list[tuple[str, object]]) -> dict[str, object]:
    """item → result, or (code, reason) for a rejection; each item must come back exactly once."""
    items = [item for item, _ in results]
    assert len(items) == len(set(items)), items
    return {item: (r.code, r.reason) if isinstance(r, RejectedFile) else r for item, r in results}


def test_inline_maps_exceptions_like_the_pool() -> None:
    items = ["ok:1", "reject", "raise:单位名称", "memoryerror", "ok:2"]
    assert outcomes(list(map_isolated(h.act, items, workers=0))) == {
        "ok:1": "1",
        "reject": ("not_template", "文件不是模板"),
        "raise:单位名称": ("reader_error", "读取文件时出错（KeyError），已跳过"),
        "memoryerror": CRASH,
        "ok:2": "2",
    }


def test_a_worker_that_dies_costs_only_its_own_item() -> None:
    items = ["ok:1", "abort", "ok:2", "exit", "ok:3", "alloc", "ok:4", "reject", "raise:x", "unpicklable", "ok:5"]
    got = outcomes(list(map_isolated(h.act, items, workers=2, memory_mb=256, timeout_s=60)))
    assert got == {
        "ok:1": "1",
        "abort": CRASH,  # os.abort(), as calamine does on a failed allocation
        "ok:2": "2",
        "exit": CRASH,  # os._exit(1)
        "ok:3": "3",
        "alloc": CRASH,  # MemoryError under the address-space cap
        "ok:4": "4",
        "reject": ("not_template", "文件不是模板"),  # code survives the trip from the worker
        "raise:x": ("reader_error", "读取文件时出错（KeyError），已跳过"),
        "unpicklable": got["unpicklable"],
        "ok:5": "5",
    }
    code, reason = got["unpicklable"]  # type: ignore[misc]
    assert code == "reader_error" and "读取文件时出错" in reason


def test_innocent_items_in_flight_when_a_worker_dies_are_run_again() -> None:
    # "sleep:1" is certainly still running when "abort" breaks the pool, so it fails with it;
    # run again alone, it succeeds: only the item that kills a worker on its own is refused.
    got = outcomes(list(map_isolated(h.act, ["sleep:1", "abort", "ok:after"], workers=2, timeout_s=60)))
    assert got == {"sleep:1": "woke", "abort": CRASH, "ok:after": "after"}


def test_an_item_over_the_timeout_is_refused_and_the_rest_go_on() -> None:
    items = ["sleep:600", "ok:1", "ok:2", "ok:3"]
    got = outcomes(list(map_isolated(h.act, items, workers=2, timeout_s=2)))
    assert got == {
        "sleep:600": ("worker_timeout", "读取文件超时（超过 2 秒），处理进程已终止，已跳过"),
        "ok:1": "1",
        "ok:2": "2",
        "ok:3": "3",
    }


def test_a_single_worker_refuses_the_culprit_directly() -> None:
    got = outcomes(list(map_isolated(h.act, ["ok:1", "abort", "ok:2"], workers=1)))
    assert got == {"ok:1": "1", "abort": CRASH, "ok:2": "2"}


def test_items_are_consumed_lazily_and_an_abandoned_run_leaves_no_workers() -> None:
    before = set(multiprocessing.active_children())
    taken: list[str] = []

    def source() -> object:
        for i in range(1000):
            taken.append(str(i))
            yield f"ok:{i}"

    run = map_isolated(h.act, source(), workers=2)
    next(run)
    run.close()
    assert len(taken) < 10
    assert set(multiprocessing.active_children()) <= before


def test_a_pool_that_cannot_start_is_an_error_not_a_batch_of_rejections() -> None:
    with pytest.raises(RuntimeError, match="cannot start"):
        list(map_isolated(h.Unloadable(), ["a.xlsx", "b.xlsx"], workers=2))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": -1}, "workers must be an integer ≥ 0, got -1"),
        ({"workers": 2, "memory_mb": 16}, "memory_mb must be ≥ 64"),
        ({"workers": 2, "timeout_s": 0}, "timeout_s must be > 0, got 0"),
    ],
)
def test_bad_options_are_refused_at_the_call_quoting_the_value(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        map_isolated(h.act, ["ok:1"], **kwargs)  # type: ignore[arg-type]


def test_a_hostile_workbook_kills_only_its_calamine_worker(tmp_path: Path) -> None:
    # Honest sizes (sniff would refuse it as a bomb; here it goes straight to the reader): the cell
    # needs > 128 MB, calamine's allocation fails under the cap and it aborts its process.
    bomb = h.big_string_xlsx(tmp_path / "bomb.xlsx", megabytes=80)
    good = h.write_xlsx(tmp_path / "good.xlsx")
    xls = h.write_xls(tmp_path / "good.xls")
    got = outcomes(list(map_isolated(h.read_with_calamine, [good, bomb, xls], workers=2, memory_mb=128)))
    assert got == {good: ["附件1"], bomb: CRASH, xls: ["附件1"]}


def test_a_lying_archive_is_stopped_by_the_reader_not_the_worker(tmp_path: Path) -> None:
    # Declares 64 KB, inflates to 8 MB: calamine stops at the declared size with an error.
    liar = h.big_string_xlsx(tmp_path / "liar.xlsx", megabytes=8)
    import zipfile

    with zipfile.ZipFile(liar) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    lie = (info.compress_size, 64 * 1024)
    h.patch_sizes(liar, info.filename, central=lie, local=lie)
    [(_, result)] = list(map_isolated(h.read_with_calamine, [liar], workers=1, memory_mb=256))
    assert isinstance(result, RejectedFile) and result.code == "reader_error"


def test_a_feed_takes_items_while_the_run_goes_on_and_ends_when_closed() -> None:
    feed = Feed()
    feed.put("ok:1")
    run = map_isolated(h.act, feed, workers=2)
    assert next(run) == ("ok:1", "1")  # the run waits for more instead of ending
    feed.put("abort")
    feed.put("ok:2")
    feed.put("pid")
    got = {item: result for item, result in (next(run), next(run), next(run))}
    feed.close()
    assert list(run) == []
    assert got["ok:2"] == "2" and (got["abort"].code, got["abort"].reason) == CRASH  # type: ignore[union-attr]
    assert got["pid"].isdigit()  # type: ignore[union-attr]


def test_items_put_first_go_before_the_others_and_a_dropping_close_forgets_the_rest() -> None:
    feed = Feed()
    for i in range(5):
        feed.put(f"ok:read{i}")
    feed.put("ok:write", first=True)
    assert [next(feed) for _ in range(2)] == ["ok:write", "ok:read0"]
    feed.close(drop=True)
    assert list(feed) == []
    with pytest.raises(ValueError, match="closed"):
        feed.put("ok:late")


def test_an_item_blamed_for_a_death_runs_once_more_and_is_refused_only_if_it_kills_again(tmp_path: Path) -> None:
    # pebble blames a death on the task the worker took last; a task whose worker died once but not when
    # run again (the death was not its doing) keeps its result.
    once = f"abort-once:{tmp_path / 'ran'}"
    got = outcomes(list(map_isolated(h.act, ["ok:1", once, "abort", "ok:2"], workers=2, timeout_s=60)))
    assert got == {"ok:1": "1", once: "survived", "abort": CRASH, "ok:2": "2"}
    assert (tmp_path / "ran").exists()
