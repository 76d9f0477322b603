-- A player's role in one game (at most one per game).
CREATE TABLE roles (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    player_id  BIGINT      NOT NULL,
    game_id    INT         NOT NULL,
    nickname   VARCHAR(64) NOT NULL,
    level      INT         NOT NULL DEFAULT 1,
    exp        BIGINT      NOT NULL DEFAULT 0,
    gold       BIGINT      NOT NULL DEFAULT 0,
    created_at BIGINT      NOT NULL,
    UNIQUE KEY roles_player_game (player_id, game_id),
    CONSTRAINT roles_player_fk FOREIGN KEY (player_id) REFERENCES players (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
