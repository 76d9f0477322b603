-- PBKDF2 iterations of each account's key (password_hash holds the derived key).
ALTER TABLE accounts ADD COLUMN kdf_iterations INT;
-- One row per settled bull poker round: who played and how gold moved (detail: JSON).
CREATE TABLE game_rounds (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    server_id  INT    NOT NULL,
    room_id    INT    NOT NULL,
    desk_id    INT    NOT NULL,
    round      BIGINT NOT NULL,
    banker_uid BIGINT NOT NULL,
    detail     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    KEY game_rounds_desk (server_id, room_id, desk_id, round)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
