-- One row the health watcher rewrites every second: proof that a write can be committed.
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY,
    probed_at BIGINT NOT NULL
);
INSERT INTO health_probe (id, probed_at) VALUES (1, 0);
