//! The import worker: takes queued imports of any tenant (one at a time per replica, leased so a
//! dead worker's import is taken up again), reads the stored file with a streaming CSV reader on
//! a blocking thread, and commits each batch of rows together with the import's progress.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crm_entities::custom_fields::{self, Definitions};
use crm_entities::events::contact::ContactCreated;
use crm_entities::ids::{CompanyId, ContactId};
use crm_entities::tenant::contact;
use crm_entities::tenant::contact_import::{self, Dedupe, ImportStatus};
use crm_entities::tenant::custom_field_definition::CustomFieldObject;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::kv::Kv;
use crm_platform::sql::{Sql, columns};
use crm_platform::{ApiError, ApiResult, Db, TenantId, TenantTx};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, IntoActiveModel};
use serde_json::{Value, json};
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::columns::{self, CompanyRef, Row, RowError, Target};
use super::{CHUNK_BYTES, find_import};
use crate::cache;
use crate::companies::{self, CompanyPatch, create_company};
use crate::contacts::{self, blank, lock_live, save_changes};

/// Rows per transaction.
pub const BATCH_ROWS: usize = 1000;
/// How long a worker holds an import without committing a batch before another may take it.
pub const LEASE: Duration = Duration::from_secs(30);
const IDLE_POLL: Duration = Duration::from_millis(500);
const MAX_ATTEMPTS: i32 = 5;

/// Takes queued imports until `shutdown`.
pub async fn run(db: Db, kv: Arc<Kv>, shutdown: CancellationToken) {
    loop {
        match claim(&db).await {
            Ok(Some(job)) => {
                if let Err(err) = process(&db, Some(kv.clone()), job, shutdown.clone(), None).await {
                    tracing::warn!(import.id = %job.import, error = %err, "import interrupted; it will be resumed");
                }
                continue;
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "could not look for imports"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Job {
    pub import: Uuid,
    pub tenant: TenantId,
    pub attempts: i32,
}

/// Leases the oldest import no live worker holds.
pub async fn claim(db: &Db) -> Result<Option<Job>, DbErr> {
    let sql = format!(
        "UPDATE crm.import_jobs j SET lease_until = now() + interval '{} seconds', attempts = j.attempts + 1
         FROM (SELECT import_id FROM crm.import_jobs WHERE lease_until IS NULL OR lease_until < now()
               ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1) next
         WHERE j.import_id = next.import_id
         RETURNING j.import_id, j.tenant_id, j.attempts",
        LEASE.as_secs()
    );
    let row = db.conn().query_one(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)).await?;
    row.map(|row| {
        Ok(Job {
            import: row.try_get("", "import_id")?,
            tenant: TenantId(row.try_get("", "tenant_id")?),
            attempts: row.try_get("", "attempts")?,
        })
    })
    .transpose()
}

/// Leases this import, unless a worker already holds it.
pub async fn claim_import(db: &Db, import: Uuid) -> Result<Option<Job>, DbErr> {
    let mut sql = Sql::new(&format!(
        "UPDATE crm.import_jobs SET lease_until = now() + interval '{} seconds', attempts = attempts + 1
         WHERE import_id = ",
        LEASE.as_secs()
    ));
    sql.bind(import).push(" AND (lease_until IS NULL OR lease_until < now()) RETURNING tenant_id, attempts");
    let row = db.conn().query_one(sql.statement()).await?;
    row.map(|row| {
        Ok(Job {
            import,
            tenant: TenantId(row.try_get("", "tenant_id")?),
            attempts: row.try_get("", "attempts")?,
        })
    })
    .transpose()
}

/// Called after every committed batch with the import as it now stands.
pub type Progress = Box<dyn Fn(&contact_import::Model) + Send>;

/// Runs (or resumes) one leased import to its end, or until `stop`. Contacts it updates are
/// dropped from the cache in `kv`.
pub async fn process(
    db: &Db,
    kv: Option<Arc<Kv>>,
    job: Job,
    stop: CancellationToken,
    progress: Option<Progress>,
) -> anyhow::Result<()> {
    if job.attempts > MAX_ATTEMPTS {
        finish(db, job, ImportStatus::Failed, Some("the import failed on every attempt")).await?;
        return Ok(());
    }
    let db = db.clone();
    let handle = Handle::current();
    tokio::task::spawn_blocking(move || Importer { handle, db, kv, job, stop, progress }.run()).await?
}

/// Ends an import: its status, its file dropped, its job removed.
async fn finish(db: &Db, job: Job, status: ImportStatus, error: Option<&str>) -> Result<(), DbErr> {
    use sea_orm::ActiveEnum;
    let tx = TenantTx::begin(db, job.tenant).await?;
    let mut sql = Sql::new("UPDATE contact_imports SET status = ");
    sql.bind(status.to_value()).push(", error = coalesce(").bind(error.map(str::to_owned));
    sql.push(", error), finished_at = now() WHERE id = ").bind(job.import);
    tx.execute(sql.statement()).await?;
    let mut sql = Sql::new("DELETE FROM contact_import_chunks WHERE import_id = ");
    sql.bind(job.import);
    tx.execute(sql.statement()).await?;
    let mut sql = Sql::new("DELETE FROM crm.import_jobs WHERE import_id = ");
    sql.bind(job.import);
    tx.execute(sql.statement()).await?;
    tx.commit().await.map_err(|_| DbErr::Custom("commit failed".to_owned()))?;
    if status == ImportStatus::Done {
        settle(db, job.tenant).await;
    }
    Ok(())
}

/// A bulk insert leaves many entries in the pending lists of the GIN indexes (search, tags),
/// which every search would scan, and statistics that describe the tables before it, which
/// plans would be made for, until autovacuum comes round; both are brought up to date now.
async fn settle(db: &Db, tenant: TenantId) {
    let settle = async {
        let tx = TenantTx::begin(db, tenant).await?;
        for index in ["contacts_search_idx", "contacts_tags_idx", "contact_name_parts_trgm_idx"] {
            let mut sql = Sql::new("SELECT gin_clean_pending_list(");
            sql.bind(index).push("::regclass)");
            tx.execute(sql.statement()).await?;
        }
        tx.execute_unprepared("ANALYZE contacts, companies").await?;
        tx.commit().await.map_err(|_| DbErr::Custom("commit failed".to_owned()))
    };
    if let Err(err) = settle.await {
        tracing::warn!(error = %err, "could not settle the tables after an import; autovacuum will");
    }
}

/// The stored file as a byte stream from `offset`, fetching one chunk at a time. It keeps the
/// chunk before the current one too, to look back at bytes the CSV reader has already taken.
struct ChunkReader {
    handle: Handle,
    db: Db,
    job: Job,
    seq: i32,
    chunk: Vec<u8>,
    chunk_start: u64,
    previous: Vec<u8>,
    previous_start: u64,
    pos: usize,
    ended: bool,
}

impl ChunkReader {
    fn at(handle: Handle, db: Db, job: Job, offset: u64) -> std::io::Result<Self> {
        let seq = (offset / CHUNK_BYTES as u64) as i32;
        let mut reader = Self {
            handle,
            db,
            job,
            seq,
            chunk: Vec::new(),
            chunk_start: 0,
            previous: Vec::new(),
            previous_start: 0,
            pos: 0,
            ended: false,
        };
        reader.fetch()?;
        reader.pos = (offset % CHUNK_BYTES as u64) as usize;
        Ok(reader)
    }

    fn fetch(&mut self) -> std::io::Result<()> {
        let (db, job, seq) = (self.db.clone(), self.job, self.seq);
        let data = self
            .handle
            .block_on(async move {
                let tx = TenantTx::begin(&db, job.tenant).await?;
                let mut sql = Sql::new("SELECT data FROM contact_import_chunks WHERE import_id = ");
                sql.bind(job.import).push(" AND seq = ").bind(seq);
                let row = tx.query_one(sql.statement()).await?;
                row.map(|row| row.try_get::<Vec<u8>>("", "data")).transpose()
            })
            .map_err(std::io::Error::other)?;
        self.previous = std::mem::replace(&mut self.chunk, data.unwrap_or_default());
        self.previous_start = self.chunk_start;
        self.chunk_start = self.seq as u64 * CHUNK_BYTES as u64;
        self.pos = 0;
        if self.chunk.is_empty() {
            self.ended = true;
        } else {
            self.seq += 1;
        }
        Ok(())
    }

    /// The byte at absolute `offset`, if it is in the current or the previous chunk.
    fn byte_at(&self, offset: u64) -> Option<u8> {
        if offset >= self.chunk_start {
            return self.chunk.get((offset - self.chunk_start) as usize).copied();
        }
        self.previous.get(offset.checked_sub(self.previous_start)? as usize).copied()
    }

    /// Line ends at absolute `offset` before a record's first byte. The CSV reader counts a line
    /// when it takes its `\n`; the `\n` of a CRLF, and blank lines, are taken only when the next
    /// record is read, after that record's position was noted.
    fn line_ends_at(&self, offset: u64) -> i64 {
        let mut lines = 0;
        let mut at = offset;
        while let Some(byte @ (b'\r' | b'\n')) = self.byte_at(at) {
            lines += i64::from(byte == b'\n');
            at += 1;
        }
        lines
    }

    /// The first bytes from here, without consuming them (for sniffing the delimiter).
    fn peek(&self) -> &[u8] {
        &self.chunk[self.pos.min(self.chunk.len())..]
    }
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.chunk.len() {
            if self.ended {
                return Ok(0);
            }
            self.fetch()?;
        }
        let n = out.len().min(self.chunk.len() - self.pos);
        out[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// `;`, tab or `,`: whichever the first line holds most of, outside quotes.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut counts = [(b',', 0), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for byte in line {
        if *byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(entry) = counts.iter_mut().find(|(d, _)| d == byte) {
            entry.1 += 1;
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0).map_or(b',', |(d, _)| *d)
}

/// Headers and targets as stored on the import once the header row was read.
#[derive(serde::Serialize, serde::Deserialize)]
struct Layout {
    headers: Vec<String>,
    targets: Vec<Option<Target>>,
}

struct Importer {
    handle: Handle,
    db: Db,
    kv: Option<Arc<Kv>>,
    job: Job,
    stop: CancellationToken,
    progress: Option<Progress>,
}

impl Importer {
    fn run(self) -> anyhow::Result<()> {
        let import = self.block(async {
            find_import(&*TenantTx::begin(&self.db, self.job.tenant).await?, self.job.import).await
        })?;
        if matches!(import.status, ImportStatus::Done | ImportStatus::Failed | ImportStatus::Waiting) {
            self.handle.block_on(finish(&self.db, self.job, import.status, None))?;
            return Ok(());
        }
        let defs = self.block(async {
            let tx = TenantTx::begin(&self.db, self.job.tenant).await?;
            Ok((contacts::definitions(&*tx).await?, companies::definitions(&*tx).await?))
        })?;
        let import = match import.columns {
            Some(_) => import,
            None => match self.read_header(import, &defs.0)? {
                Some(import) => import,
                None => return Ok(()),
            },
        };
        self.read_rows(import, &defs.0)
    }

    fn block<T>(&self, future: impl Future<Output = ApiResult<T>>) -> anyhow::Result<T> {
        self.handle.block_on(future).map_err(|err| anyhow::anyhow!(err.message()))
    }

    fn fail(&self, reason: &str) -> anyhow::Result<Option<contact_import::Model>> {
        self.handle.block_on(finish(&self.db, self.job, ImportStatus::Failed, Some(reason)))?;
        Ok(None)
    }

    /// Reads the header row; records the delimiter, the column targets and where rows start.
    fn read_header(
        &self,
        import: contact_import::Model,
        defs: &Definitions,
    ) -> anyhow::Result<Option<contact_import::Model>> {
        let mut source = ChunkReader::at(self.handle.clone(), self.db.clone(), self.job, 0)?;
        let bom = source.peek().starts_with(b"\xEF\xBB\xBF");
        let start: u64 = if bom { 3 } else { 0 };
        if bom {
            source.pos = 3;
        }
        let delimiter = sniff_delimiter(source.peek());
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(source);
        let mut record = csv::ByteRecord::new();
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return self.fail("the file is empty: it needs a header row and at least one row"),
            Err(err) if err.is_io_error() => return Err(err.into()),
            Err(_) => return self.fail("the header row cannot be read as CSV"),
        }
        let Ok(headers) = record
            .iter()
            .map(|h| std::str::from_utf8(h).map(|h| h.trim().to_owned()))
            .collect::<Result<Vec<_>, _>>()
        else {
            return self.fail("the header row is not valid UTF-8 text (is this a CSV file?)");
        };
        if headers.len() > 1000 {
            return self
                .fail(&format!("the header row has {} columns; at most 1000 are read", headers.len()));
        }
        let mapping = import.mapping.as_object().cloned().unwrap_or_default();
        let targets = match columns::resolve(&headers, &mapping, defs) {
            Ok(targets) => targets,
            Err(reason) => return self.fail(&reason),
        };
        let layout = serde_json::to_value(Layout { headers, targets })?;
        let offset = start + reader.position().byte();
        let line = reader.position().line() as i64;
        let delimiter = (delimiter as char).to_string();
        let import = self.block(async {
            let tx = TenantTx::begin(&self.db, self.job.tenant).await?;
            let mut active = find_import(&*tx, self.job.import).await?.into_active_model();
            active.columns = sea_orm::Set(Some(layout));
            active.delimiter = sea_orm::Set(Some(delimiter));
            active.next_offset = sea_orm::Set(offset as i64);
            active.next_line = sea_orm::Set(line);
            active.status = sea_orm::Set(ImportStatus::Running);
            active.started_at = sea_orm::Set(Some(Utc::now()));
            let import = sea_orm::ActiveModelTrait::update(active, &*tx).await?;
            tx.commit().await?;
            Ok(import)
        })?;
        Ok(Some(import))
    }

    fn read_rows(&self, mut import: contact_import::Model, defs: &Definitions) -> anyhow::Result<()> {
        let layout: Layout = serde_json::from_value(import.columns.clone().unwrap_or(Value::Null))?;
        let delimiter = import.delimiter.as_deref().and_then(|d| d.bytes().next()).unwrap_or(b',');
        let source =
            ChunkReader::at(self.handle.clone(), self.db.clone(), self.job, import.next_offset as u64)?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(source);
        let (base_offset, base_line) = (import.next_offset, import.next_line);
        let mut seen = HashSet::new();
        let mut record = csv::ByteRecord::new();
        let mut defs = defs.clone();
        loop {
            let mut rows = Vec::new();
            let mut errors = Vec::new();
            while rows.len() + errors.len() < BATCH_ROWS {
                let line = base_line + reader.position().line() as i64 - 1;
                match reader.read_byte_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(err) if err.is_io_error() => return Err(err.into()),
                    Err(err) => {
                        errors.push(RowError {
                            line,
                            column: None,
                            reason: format!("not readable as CSV: {err}"),
                        });
                        continue;
                    }
                }
                let line = match record.position() {
                    Some(p) => {
                        let skipped = reader.get_ref().line_ends_at(base_offset as u64 + p.byte());
                        base_line + p.line() as i64 - 1 + skipped
                    }
                    None => line,
                };
                let cells: Vec<&[u8]> = record.iter().collect();
                match columns::parse_row(line, &cells, &layout.headers, &layout.targets, &defs) {
                    Ok(row) => rows.push(row),
                    Err(error) => errors.push(error),
                }
            }
            let position = (
                base_offset + reader.position().byte() as i64,
                base_line + reader.position().line() as i64 - 1,
            );
            if rows.is_empty() && errors.is_empty() {
                self.handle.block_on(finish(&self.db, self.job, ImportStatus::Done, None))?;
                return Ok(());
            }
            let batch = Batch { job: self.job, import: &import, rows, errors, position };
            let applied = match self.handle.block_on(batch.apply(&self.db, &mut seen)) {
                Ok(applied) => applied,
                // Another worker took the import over (this one's lease ran out): it goes on.
                Err(ApiError::Conflict(_)) => return Ok(()),
                Err(err) => anyhow::bail!(err.message()),
            };
            if let Some(kv) = &self.kv {
                self.handle.block_on(cache::forget(kv, self.job.tenant, &applied.updated));
            }
            import = applied.import;
            // The definitions may have changed meanwhile; rows are read against the current ones.
            defs = applied.definitions;
            if let Some(progress) = &self.progress {
                progress(&import);
            }
            if self.stop.is_cancelled() {
                // Handed back at once rather than when the lease runs out.
                self.handle.block_on(release(&self.db, self.job))?;
                return Ok(());
            }
        }
    }
}

async fn release(db: &Db, job: Job) -> Result<(), DbErr> {
    let mut sql = Sql::new("UPDATE crm.import_jobs SET lease_until = NULL WHERE import_id = ");
    sql.bind(job.import);
    db.conn().execute(sql.statement()).await.map(drop)
}

/// One batch of rows and the reports of the rows that did not parse.
struct Batch<'a> {
    job: Job,
    import: &'a contact_import::Model,
    rows: Vec<Row>,
    errors: Vec<RowError>,
    /// Offset and line after the batch's last row.
    position: (i64, i64),
}

/// What a committed batch leaves: the import as it stands, the contacts it updated (to drop from
/// the cache) and the definitions it checked values against.
struct Applied {
    import: contact_import::Model,
    updated: Vec<ContactId>,
    definitions: Definitions,
}

/// A new contact of this batch, by dedupe key: still to insert, or inserted already (batches of
/// a tenant with unique custom fields insert row by row).
enum Pending {
    Queued(usize),
    Inserted(Uuid),
}

#[derive(Default)]
struct Counts {
    imported: i64,
    updated: i64,
    skipped: i64,
}

/// How an import recognises a contact it already has: the email, or (without one) the name at
/// the same company.
fn dedupe_key(row: &Row) -> String {
    match &row.patch.email {
        Some(Some(email)) => format!("email:{email}"),
        _ => {
            let first = row.patch.first_name.as_deref().unwrap_or_default().to_lowercase();
            let last = row.patch.last_name.as_deref().unwrap_or_default().to_lowercase();
            let company = row
                .company
                .as_ref()
                .map(|c| format!("{:?}|{:?}", c.name.as_ref().map(|n| n.to_lowercase()), c.domain))
                .unwrap_or_default();
            format!("name:{first}|{last}|{company}")
        }
    }
}

#[derive(FromQueryResult)]
struct Existing {
    id: Uuid,
    email: Option<String>,
    additional_emails: Vec<String>,
    first_name: String,
    last_name: String,
    company_name: Option<String>,
    company_domain: Option<String>,
}

impl Batch<'_> {
    async fn apply(mut self, db: &Db, seen: &mut HashSet<String>) -> ApiResult<Applied> {
        // Still ours for the length of this batch, however long it takes.
        extend_lease(db.conn(), self.job.import).await?;
        let tx = TenantTx::begin(db, self.job.tenant).await?;
        // The batch's rows and the import's progress commit together, so a commit lost in a
        // crash only means the batch is read again: no need to wait for the disk. Plans are
        // made for this batch's values (a generic plan of the lookups scans the table). New
        // search entries gather in the indexes' pending lists, merged once when the import ends.
        tx.execute_unprepared(
            "SELECT set_config('synchronous_commit', 'off', true), \
             set_config('plan_cache_mode', 'force_custom_plan', true), \
             set_config('gin_pending_list_limit', '65536', true)",
        )
        .await?;
        let defs = contacts::definitions(&*tx).await?;
        let company_defs = companies::definitions(&*tx).await?;
        let actor = UserId(self.import.created_by.unwrap_or_default());
        let mut errors = self.errors.clone();
        let companies = resolve_companies(&tx, &company_defs, actor, &self.rows, &mut errors).await?;
        let existing = if self.import.dedupe == Dedupe::None {
            HashMap::new()
        } else {
            existing(&tx, &self.rows).await?
        };
        let mut counts = Counts::default();
        let mut inserts: Vec<contact::Model> = Vec::new();
        let mut pending: HashMap<String, Pending> = HashMap::new();
        let mut updated = Vec::new();
        let unique_fields = defs.has_unique();
        if unique_fields {
            custom_fields::lock_unique(&*tx, CustomFieldObject::Contact).await?;
        }
        for row in std::mem::take(&mut self.rows) {
            if errors.iter().any(|e| e.line == row.line) {
                continue;
            }
            let company_id = row.company.as_ref().and_then(|c| companies.get(c).copied());
            let key = dedupe_key(&row);
            let line = row.line;
            let outcome: ApiResult<()> = async {
                if self.import.dedupe != Dedupe::None {
                    let matched = match pending.get(&key) {
                        Some(Pending::Inserted(id)) => Some(*id),
                        _ => existing.get(&key).copied(),
                    };
                    if let Some(id) = matched {
                        return if self.import.dedupe == Dedupe::Skip {
                            counts.skipped += 1;
                            Ok(())
                        } else {
                            update_existing(&tx, &defs, actor, id, row.patch, company_id).await?;
                            updated.push(ContactId(id));
                            counts.updated += 1;
                            Ok(())
                        };
                    }
                    if let Some(Pending::Queued(index)) = pending.get(&key) {
                        if self.import.dedupe == Dedupe::Skip {
                            counts.skipped += 1;
                        } else {
                            let target = &mut inserts[*index];
                            let values = defs.apply_patch(
                                &target.custom_fields,
                                row.patch.custom_fields.as_ref().unwrap_or(&json!({})),
                                false,
                            )?;
                            row.patch.apply_to(target);
                            target.custom_fields = Value::Object(values);
                            counts.updated += 1;
                        }
                        return Ok(());
                    }
                    if seen.contains(&key) && self.import.dry_run {
                        counts.skipped += 1;
                        return Ok(());
                    }
                }
                let mut model = blank(ContactId::new(), actor);
                let values = defs.apply_patch(
                    &json!({}),
                    row.patch.custom_fields.as_ref().unwrap_or(&json!({})),
                    true,
                )?;
                model.custom_fields = Value::Object(values);
                row.patch.apply_to(&mut model);
                model.company_id = company_id.map(|c| c.0).or(model.company_id);
                if unique_fields {
                    let values = model.custom_fields.as_object().cloned().unwrap_or_default();
                    defs.check_unique(&*tx, &values, None).await?;
                    pending.insert(key.clone(), Pending::Inserted(model.id));
                    insert(&tx, actor, vec![model]).await?;
                } else {
                    pending.insert(key.clone(), Pending::Queued(inserts.len()));
                    inserts.push(model);
                }
                seen.insert(key);
                counts.imported += 1;
                Ok(())
            }
            .await;
            match outcome {
                Ok(()) => {}
                Err(err @ ApiError::Internal(_)) => return Err(err),
                Err(err) => errors.push(RowError { line, column: field_of(&err), reason: err.message() }),
            }
        }
        insert(&tx, actor, inserts).await?;
        if self.import.dry_run {
            // Everything above is only counted: the rows and companies go, the report stays.
            drop(tx);
            let tx = TenantTx::begin(db, self.job.tenant).await?;
            let import = self.record(tx, counts, errors).await?;
            return Ok(Applied { import, updated: Vec::new(), definitions: defs });
        }
        let import = self.record(tx, counts, errors).await?;
        Ok(Applied { import, updated, definitions: defs })
    }

    /// Writes the reports and the progress, renews the lease, and commits.
    async fn record(
        &self,
        tx: TenantTx,
        counts: Counts,
        errors: Vec<RowError>,
    ) -> ApiResult<contact_import::Model> {
        if !errors.is_empty() {
            let lines: Vec<i64> = errors.iter().map(|e| e.line).collect();
            let columns: Vec<String> = errors.iter().map(|e| e.column.clone().unwrap_or_default()).collect();
            let reasons: Vec<String> = errors.iter().map(|e| e.reason.clone()).collect();
            let mut sql =
                Sql::new("INSERT INTO contact_import_errors (import_id, line, column_name, reason) SELECT ");
            sql.bind(self.job.import).push(", e.line, NULLIF(e.column_name, ''), e.reason FROM unnest(");
            sql.bind_as(lines, "bigint[]").push(", ").bind_as(columns, "text[]").push(", ");
            sql.bind_as(reasons, "text[]").push(") AS e(line, column_name, reason)");
            tx.execute(sql.statement()).await?;
        }
        let rows = counts.imported + counts.updated + counts.skipped + errors.len() as i64;
        let mut sql = Sql::new("UPDATE contact_imports SET total = total + ");
        sql.bind(rows).push(", imported = imported + ").bind(counts.imported);
        sql.push(", updated = updated + ")
            .bind(counts.updated)
            .push(", skipped = skipped + ")
            .bind(counts.skipped);
        sql.push(", failed = failed + ").bind(errors.len() as i64);
        sql.push(", next_offset = ").bind(self.position.0).push(", next_line = ").bind(self.position.1);
        // Only from where this batch started: a worker that took the import over meanwhile has
        // moved it on, and this batch is then rolled back.
        sql.push(" WHERE id = ")
            .bind(self.job.import)
            .push(" AND next_offset = ")
            .bind(self.import.next_offset);
        if tx.execute(sql.statement()).await?.rows_affected() == 0 {
            return Err(ApiError::Conflict("another worker took this import over".to_owned()));
        }
        let mut sql = Sql::new(&format!(
            "UPDATE crm.import_jobs SET lease_until = now() + interval '{} seconds', attempts = 0 WHERE import_id = ",
            LEASE.as_secs()
        ));
        sql.bind(self.job.import);
        tx.execute(sql.statement()).await?;
        let import = find_import(&*tx, self.job.import).await?;
        tx.commit().await?;
        Ok(import)
    }
}

fn field_of(err: &ApiError) -> Option<String> {
    match err {
        ApiError::BadInput { field, .. } => Some(field.to_string()),
        _ => None,
    }
}

/// Inserts new contacts and their `contact.created` events, many per statement.
async fn insert(tx: &TenantTx, actor: UserId, rows: Vec<contact::Model>) -> ApiResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        events.push(Envelope::new(
            tx.tenant(),
            Some(actor),
            &ContactCreated { contact_id: ContactId(row.id) },
        )?);
    }
    // One parameter for the whole batch: a statement with a parameter per value (24,000 for a
    // thousand contacts) spends longer being parsed and bound than inserting.
    // Columns named on both sides: a column a later migration adds takes its default.
    let columns = columns::<contact::Entity>("");
    let mut sql = Sql::new(&format!(
        "INSERT INTO contacts ({columns}) SELECT {columns} FROM jsonb_populate_recordset(NULL::contacts, "
    ));
    sql.bind_as(serde_json::to_string(&rows)?, "jsonb").push(")");
    tx.execute(sql.statement()).await?;
    events::enqueue_many(&**tx, &events).await
}

async fn extend_lease(conn: &impl ConnectionTrait, import: Uuid) -> Result<(), DbErr> {
    let mut sql = Sql::new(&format!(
        "UPDATE crm.import_jobs SET lease_until = now() + interval '{} seconds' WHERE import_id = ",
        LEASE.as_secs()
    ));
    sql.bind(import);
    conn.execute(sql.statement()).await.map(drop)
}

async fn update_existing(
    tx: &TenantTx,
    defs: &Definitions,
    actor: UserId,
    id: Uuid,
    patch: contacts::ContactPatch,
    company: Option<CompanyId>,
) -> ApiResult<()> {
    let before = lock_live(tx, ContactId(id)).await?;
    let mut after = before.clone();
    let values =
        defs.apply_patch(&after.custom_fields, patch.custom_fields.as_ref().unwrap_or(&json!({})), false)?;
    defs.ensure_unique(&**tx, &values, Some(id)).await?;
    patch.apply_to(&mut after);
    after.custom_fields = Value::Object(values);
    if company.is_some() {
        after.company_id = company.map(|c| c.0);
    }
    save_changes(tx, actor, before, after).await.map(drop)
}

/// The live contacts the batch's rows would duplicate, by dedupe key.
async fn existing(tx: &TenantTx, rows: &[Row]) -> ApiResult<HashMap<String, Uuid>> {
    let emails: Vec<String> = rows.iter().filter_map(|r| r.patch.email.clone().flatten()).collect();
    let firsts: Vec<String> = rows
        .iter()
        .filter(|r| !matches!(r.patch.email, Some(Some(_))))
        .filter_map(|r| r.patch.first_name.as_ref().map(|f| f.to_lowercase()))
        .collect();
    if emails.is_empty() && firsts.is_empty() {
        return Ok(HashMap::new());
    }
    // Only the conditions with values, so each uses its index instead of one scanning the table.
    let mut conditions = Vec::new();
    if !emails.is_empty() {
        // Sub-selects hide the thousand values from the planner, which would otherwise expect
        // `&&` to match much of the table and scan it; unseen, both indexes are used.
        let mut by_email = Sql::new("c.email = ANY(ARRAY(SELECT unnest(");
        by_email.bind_as(emails.clone(), "text[]").push("))) OR c.additional_emails && (SELECT ");
        by_email.bind_as(emails, "text[]").push(")");
        conditions.push(by_email);
    }
    if !firsts.is_empty() {
        let mut by_name = Sql::new("lower(c.first_name) = ANY(ARRAY(SELECT unnest(");
        by_name.bind_as(firsts, "text[]").push(")))");
        conditions.push(by_name);
    }
    let mut sql = Sql::new(
        "SELECT c.id, c.email, c.additional_emails, c.first_name, c.last_name, co.name AS company_name, co.domain AS company_domain
         FROM contacts c LEFT JOIN companies co ON co.id = c.company_id
         WHERE c.deleted_at IS NULL AND ",
    );
    sql.append(crm_platform::sql::join(conditions, "OR")).push(" ORDER BY c.created_at DESC, c.id DESC");
    let found = Existing::find_by_statement(sql.statement()).all(&**tx).await?;
    let mut keys = HashMap::new();
    // Oldest last, so the oldest contact wins a key.
    for contact in found {
        for email in contact.email.iter().chain(&contact.additional_emails) {
            keys.insert(format!("email:{email}"), contact.id);
        }
        let company = match (&contact.company_name, &contact.company_domain) {
            (None, None) => String::new(),
            (name, domain) => format!("{:?}|{:?}", name.as_ref().map(|n| n.to_lowercase()), domain),
        };
        let by_name = format!(
            "name:{}|{}|{company}",
            contact.first_name.to_lowercase(),
            contact.last_name.to_lowercase()
        );
        keys.insert(by_name, contact.id);
        // A row may name the company by name only or by domain only.
        if let Some(name) = &contact.company_name {
            keys.insert(
                format!(
                    "name:{}|{}|{:?}|None",
                    contact.first_name.to_lowercase(),
                    contact.last_name.to_lowercase(),
                    Some(name.to_lowercase())
                ),
                contact.id,
            );
        }
        if let Some(domain) = &contact.company_domain {
            keys.insert(
                format!(
                    "name:{}|{}|None|{:?}",
                    contact.first_name.to_lowercase(),
                    contact.last_name.to_lowercase(),
                    Some(domain)
                ),
                contact.id,
            );
        }
    }
    Ok(keys)
}

/// Finds the companies rows name (by domain, else by name), creating those that do not exist.
/// A company that cannot be created makes its rows' reports.
async fn resolve_companies(
    tx: &TenantTx,
    defs: &Definitions,
    actor: UserId,
    rows: &[Row],
    errors: &mut Vec<RowError>,
) -> ApiResult<HashMap<CompanyRef, CompanyId>> {
    let refs: HashSet<&CompanyRef> = rows.iter().filter_map(|r| r.company.as_ref()).collect();
    if refs.is_empty() {
        return Ok(HashMap::new());
    }
    let names: Vec<String> = refs.iter().filter_map(|r| r.name.as_ref().map(|n| n.to_lowercase())).collect();
    let domains: Vec<String> = refs.iter().filter_map(|r| r.domain.clone()).collect();
    let mut sql = Sql::new(
        "SELECT id, lower(name) AS name, domain FROM companies WHERE deleted_at IS NULL AND (lower(name) = ANY(",
    );
    sql.bind_as(names, "text[]")
        .push(") OR domain = ANY(")
        .bind_as(domains, "text[]")
        .push(")) ORDER BY created_at");
    let found = tx.query_all(sql.statement()).await?;
    let mut by_name = HashMap::new();
    let mut by_domain = HashMap::new();
    for row in &found {
        let id: Uuid = row.try_get("", "id")?;
        let name: String = row.try_get("", "name")?;
        by_name.entry(name).or_insert(id);
        if let Some(domain) = row.try_get::<Option<String>>("", "domain")? {
            by_domain.insert(domain, id);
        }
    }
    let mut resolved = HashMap::new();
    let mut refs: Vec<&CompanyRef> = refs.into_iter().collect();
    refs.sort();
    for company in refs {
        let known = company
            .domain
            .as_ref()
            .and_then(|d| by_domain.get(d))
            .or_else(|| company.name.as_ref().and_then(|n| by_name.get(&n.to_lowercase())));
        if let Some(id) = known {
            resolved.insert(company.clone(), CompanyId(*id));
            continue;
        }
        let name = company.name.clone().or_else(|| company.domain.clone()).unwrap_or_default();
        let patch = CompanyPatch {
            name: Some(name.clone()),
            domain: Some(company.domain.clone()),
            ..Default::default()
        };
        match create_company(tx, defs, actor, patch).await {
            Ok(created) => {
                by_name.insert(name.to_lowercase(), created.id);
                if let Some(domain) = &company.domain {
                    by_domain.insert(domain.clone(), created.id);
                }
                resolved.insert(company.clone(), CompanyId(created.id));
            }
            Err(err @ ApiError::Internal(_)) => return Err(err),
            Err(err) => {
                for row in rows.iter().filter(|r| r.company.as_ref() == Some(company)) {
                    errors.push(RowError {
                        line: row.line,
                        column: Some("company".to_owned()),
                        reason: format!("company {name:?} could not be created: {}", err.message()),
                    });
                }
            }
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delimiter_is_what_the_header_uses_outside_quotes() {
        assert_eq!(sniff_delimiter(b"first;last;\"a,b,c\"\nx"), b';');
        assert_eq!(sniff_delimiter(b"first,last\n"), b',');
        assert_eq!(sniff_delimiter(b"first\tlast\n"), b'\t');
        assert_eq!(sniff_delimiter(b"first\n"), b',');
    }
}
