-- A player's role in one game (at most one per game).
CREATE TABLE roles (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    player_id  BIGINT  NOT NULL REFERENCES players(id),
    game_id    INTEGER NOT NULL,
    nickname   TEXT    NOT NULL,
    level      INTEGER NOT NULL DEFAULT 1,
    exp        BIGINT  NOT NULL DEFAULT 0,
    gold       BIGINT  NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL,
    UNIQUE (player_id, game_id)
);
CREATE INDEX roles_player ON roles (player_id);
