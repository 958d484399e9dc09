"""Settings: defaults, vo-server.toml, environment over file, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from vo_server.config import ConfigError, load_settings
from vo_server.metadata.yaml_files import load_resource


def test_defaults() -> None:
    settings = load_settings(env={}, config_file=Path("/nonexistent.toml"))
    assert settings.port == 8000 and settings.dsn is None and settings.query_role == "vo_query"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.pg_dir == Path("var/pg")


def test_toml_file_and_environment_precedence(tmp_path) -> None:
    config = tmp_path / "vo-server.toml"
    config.write_text('port = 9000\nauthority = "ivo://my.org"\nbase_url = "https://vo.my.org/"\n'
                      'statement_timeout = 12.5\n')
    settings = load_settings(env={"VO_SERVER_PORT": "9100"}, config_file=config)
    assert settings.port == 9100  # environment wins
    assert settings.authority == "ivo://my.org" and settings.statement_timeout == 12.5
    assert settings.public_url == "https://vo.my.org"
    via_env = load_settings(env={"VO_SERVER_CONFIG": str(config)})
    assert via_env.port == 9000


@pytest.mark.parametrize("content, message", [
    ("porrt = 1\n", "unknown settings ['porrt']"),
    ("port = [\n", "not valid TOML"),
    ('authority = "example.org"\n', "must look like ivo://"),
    ('authority = "ivo://a/b"\n', "must look like ivo://"),
    ('port = "x"\n', "not a valid int"),
])
def test_bad_configuration(tmp_path, content: str, message: str) -> None:
    config = tmp_path / "vo-server.toml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(env={}, config_file=config)


def test_resource_metadata_and_overrides() -> None:
    settings = load_settings(env={})
    resource = load_resource(settings.schemas_dir, {"publisher": "My Observatory", "contact_email": None})
    assert resource.publisher == "My Observatory"
    assert resource.contact_email == "archive@example.org"
    assert resource.ivoid("ivo://my.org") == "ivo://my.org/archive"
    assert resource.title and resource.description and resource.subjects
