import pytest

from .upstreams import RouteTable, Upstream, parse_upstreams

UPSTREAMS = parse_upstreams(
    {
        "entity": {"url": "http://e:1/", "prefixes": ["/api/entities"]},
        "special": {"url": "http://s:2", "prefixes": ["/api/entities/special"]},
        "math": {"url": "http://m:3", "prefixes": ["/api/math/"]},
    }
)


def test_parse_normalizes_urls_and_prefixes() -> None:
    assert UPSTREAMS[0] == Upstream("entity", "http://e:1", ("/api/entities",))
    assert UPSTREAMS[2].prefixes == ("/api/math",)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/entities", "entity"),
        ("/api/entities/7", "entity"),
        ("/api/entities/special", "special"),
        ("/api/entities/special/1", "special"),
        ("/api/entities/specialty", "entity"),
        ("/api/math/sum", "math"),
        ("/api/entitiesx", None),
        ("/api", None),
        ("/", None),
    ],
)
def test_the_longest_whole_segment_prefix_wins(path: str, name: str | None) -> None:
    upstream = RouteTable(UPSTREAMS).match(path)
    assert (upstream.name if upstream else None) == name


@pytest.mark.parametrize(
    "config",
    [
        {"x": {"url": "ftp://x", "prefixes": ["/a"]}},
        {"x": {"url": "http://x", "prefixes": []}},
        {"x": {"url": "http://x", "prefixes": ["a"]}},
        {"x": {"url": "http://x", "prefixes": ["/"]}},
    ],
)
def test_malformed_tables_are_refused(config: dict[str, dict[str, object]]) -> None:
    with pytest.raises(ValueError):
        parse_upstreams(config)
