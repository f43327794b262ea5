"""The ledger's schema as numbered migrations (`Ledger.migrate` applies those not yet recorded in
`schema_migrations`). Add a migration; never edit an applied one: ledgers in the field have run it already.
The tables are described in docs/ledger.md.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "submissions, findings and data points",
        """
        CREATE TABLE submissions (
            id            INTEGER PRIMARY KEY,
            sha256        TEXT NOT NULL,
            original_path TEXT NOT NULL,          -- relative to the inbox, POSIX separators
            inbox         TEXT NOT NULL,          -- absolute inbox folder it was taken from
            size          INTEGER NOT NULL,
            mtime_ns      INTEGER NOT NULL,       -- size and mtime when received: is the inbox file still it?
            received_at   TEXT NOT NULL,
            archive_path  TEXT NOT NULL,          -- relative to OUT
            state         TEXT NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'checked', 'filed')),
            duplicate_of  INTEGER REFERENCES submissions (id),
            status        TEXT CHECK (status IN ('ok', 'warnings', 'errors', 'rejected', 'duplicate')),
            unit          TEXT,
            year          INTEGER,
            errors        INTEGER NOT NULL DEFAULT 0,
            warnings      INTEGER NOT NULL DEFAULT 0,
            reason        TEXT,                   -- why it was refused, or what it duplicates
            reason_code   TEXT,
            checked_at    TEXT,
            output_path   TEXT,                   -- annotated workbook, relative to OUT
            dest_path     TEXT,                   -- processed/… or refused/…, relative to OUT
            filed_at      TEXT,
            note          TEXT,
            CHECK (state = 'received' OR status IS NOT NULL)
        );
        CREATE UNIQUE INDEX submissions_one_per_hash ON submissions (sha256) WHERE duplicate_of IS NULL;
        CREATE UNIQUE INDEX submissions_output ON submissions (output_path) WHERE output_path IS NOT NULL;
        CREATE UNIQUE INDEX submissions_dest ON submissions (dest_path) WHERE dest_path IS NOT NULL;
        CREATE INDEX submissions_state ON submissions (state);
        CREATE INDEX submissions_unit ON submissions (year, unit);

        CREATE TABLE findings (
            id            INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions (id),
            seq           INTEGER NOT NULL,
            rule          TEXT NOT NULL,
            level         TEXT NOT NULL CHECK (level IN ('error', 'warning')),
            sheet         TEXT NOT NULL,
            cell          TEXT,                   -- the first cell the finding names
            cells         TEXT NOT NULL,          -- all of them, comma-separated
            message       TEXT NOT NULL,
            expected      TEXT,
            actual        TEXT
        );
        CREATE INDEX findings_submission ON findings (submission_id);

        CREATE TABLE points (
            submission_id INTEGER NOT NULL REFERENCES submissions (id),
            part          INTEGER NOT NULL,       -- 0: 附件1 and 附件2; n: the n-th 附件3 sheet
            key           TEXT NOT NULL,          -- form point key; indicator rows as <form>.ind.<i>.<column>
            value_num     REAL,
            value_text    TEXT,
            sheet         TEXT NOT NULL,
            cell          TEXT,
            decimals      INTEGER,
            PRIMARY KEY (submission_id, part, key)
        ) WITHOUT ROWID;
        """,
    ),
    (
        2,
        "reviewer decisions and unit explanations",
        """
        CREATE TABLE decisions (                  -- 审核意见 and 备注 typed into 问题清单 (batch/decisions.py)
            unit          TEXT NOT NULL,          -- as 问题清单 shows it
            year          INTEGER NOT NULL,       -- 0: year unknown
            rule          TEXT NOT NULL,
            cell          TEXT NOT NULL,          -- sheet!first cell, '' for a file-level finding
            decision      TEXT NOT NULL,          -- 认可 | 不认可 | 退回修改 | ''
            note          TEXT NOT NULL,
            decided_at    REAL NOT NULL,          -- epoch seconds: the newer of ledger and workbook wins
            source        TEXT NOT NULL,          -- the workbook it was read from
            PRIMARY KEY (unit, year, rule, cell)
        ) WITHOUT ROWID;

        CREATE TABLE explanations (               -- 单位说明 a unit wrote against a finding of its workbook
            submission_id INTEGER NOT NULL REFERENCES submissions (id),
            rule          TEXT NOT NULL,
            cell          TEXT NOT NULL,          -- sheet!first cell
            text          TEXT NOT NULL,
            PRIMARY KEY (submission_id, rule, cell)
        ) WITHOUT ROWID;
        """,
    ),
    (
        3,
        "points no summary reads, one JSON row per submission",
        """
        CREATE TABLE point_lists (                -- 附件3 sheets and indicator rows: stored, never summed
            submission_id INTEGER PRIMARY KEY REFERENCES submissions (id),
            rows          TEXT NOT NULL           -- JSON [[part, key, value_num, value_text, sheet, cell, decimals], …]
        );

        CREATE VIEW all_points AS                 -- every point as one table, as `points` held them before
            SELECT submission_id, part, key, value_num, value_text, sheet, cell, decimals FROM points
            UNION ALL
            SELECT l.submission_id, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'),
                   json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]'),
                   json_extract(j.value, '$[5]'), json_extract(j.value, '$[6]')
            FROM point_lists l, json_each(l.rows) j;
        """,
    ),
    (
        4,
        "reports and bundles: a file's kind, the bundle a member came in, reports and their workbooks",
        """
        ALTER TABLE submissions ADD COLUMN kind TEXT NOT NULL DEFAULT 'workbook'
            CHECK (kind IN ('workbook', 'report', 'bundle'));  -- by the file's suffix (batch/kinds.py)
        ALTER TABLE submissions ADD COLUMN bundle_id INTEGER REFERENCES submissions (id);  -- member of a .zip

        CREATE TABLE reports (                    -- 自评报告 received (batch/pairing.py)
            submission_id INTEGER PRIMARY KEY REFERENCES submissions (id),
            head          TEXT NOT NULL,          -- file name and first paragraphs, normalised: where a unit name is
            problem       TEXT NOT NULL,          -- why its text could not be read ('' when it was)
            unit          TEXT,                   -- the unit it belongs to; NULL: 待配对 (no workbook names it yet)
            workbook_id   INTEGER REFERENCES submissions (id)  -- the workbook last checked with it
        );
        CREATE INDEX reports_unit ON reports (unit);
        """,
    ),
)
