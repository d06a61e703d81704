-- Refresh-token families: revocation is recorded on the family, so a successor token minted
-- concurrently with the revocation (a reuse race) is revoked too: every refresh checks it.
CREATE TABLE refresh_families (
    family_id   TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (user_id),
    revoked_at  BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX refresh_families_user ON refresh_families (user_id);
