-- PBKDF2 iterations of each account's key (password_hash holds the derived key).
ALTER TABLE accounts ADD COLUMN kdf_iterations INTEGER;
-- One row per settled bull poker round: who played and how gold moved (detail: JSON).
CREATE TABLE game_rounds (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    server_id  INTEGER NOT NULL,
    room_id    INTEGER NOT NULL,
    desk_id    INTEGER NOT NULL,
    round      BIGINT  NOT NULL,
    banker_uid BIGINT  NOT NULL,
    detail     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX game_rounds_desk ON game_rounds (server_id, room_id, desk_id, round);
