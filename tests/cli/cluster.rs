//! A local Ballista cluster (cargo feature `cluster`, SPEC §11): one `spotcheck cluster
//! scheduler` and two `spotcheck cluster executor`s on 127.0.0.1, started once for the whole
//! file (one test, so that CI starts one cluster). `score --cluster` writes the same scored file,
//! rejects and counts as `score` on this machine, `sample --cluster` the same sample, public list
//! and manifest, and `sql --cluster` runs spotcheck's functions on the executors with the same
//! answers as a local query; Ctrl-C and SIGTERM during score/sample --cluster remove the
//! scratch folder at once. A second test, without a cluster, checks the operator's mistakes
//! (wrong URLs, no scheduler, ports in use) are one sentence and exit 2.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use spotcheck::sample::Strata;
use spotcheck::schema::Department;

use super::{Work, read_csv, repo, text};

/// The cluster's processes, stopped when the test ends (also when it fails).
struct Cluster {
    children: Vec<Child>,
    url: String,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Ports for the scheduler (one) and the executors (PORT and PORT + 1 each): all chosen while
/// the earlier ones are still held, so no two processes are given the same port, then released
/// for the processes to bind.
fn free_ports(executors: usize) -> (u16, Vec<u16>) {
    let mut held = Vec::new();
    let mut take = |pair: bool| -> u16 {
        for _ in 0..500 {
            let a = TcpListener::bind("127.0.0.1:0").unwrap();
            let p = a.local_addr().unwrap().port();
            if !pair {
                held.push(a);
                return p;
            }
            if p < 65535
                && let Ok(b) = TcpListener::bind(("127.0.0.1", p + 1))
            {
                held.push(a);
                held.push(b);
                return p;
            }
        }
        panic!("no free ports on 127.0.0.1");
    };
    let scheduler = take(false);
    let executors = (0..executors).map(|_| take(true)).collect();
    drop(held);
    (scheduler, executors)
}

fn spawn(w: &Work, args: &[&str], log: &str, tmpdir: Option<&std::path::Path>) -> Child {
    let out = std::fs::File::create(w.path(log)).unwrap();
    let err = out.try_clone().unwrap();
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("spotcheck"));
    if let Some(t) = tmpdir {
        c.env("TMPDIR", t);
    }
    c.current_dir(w.dir.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("spotcheck cluster starts")
}

/// Waits until `port` accepts connections, failing with the process's log if it ends first.
fn wait_for(w: &Work, child: &mut Child, port: u16, what: &str, log: &str) {
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "{what} ended ({status}) before serving on port {port}; its log:\n{}",
                std::fs::read_to_string(w.path(log)).unwrap_or_default()
            );
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "{what} did not serve on port {port} within 120 s; its log:\n{}",
            std::fs::read_to_string(w.path(log)).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts a scheduler and two executors and waits until both executors have registered (an
/// executor serves Arrow Flight on its PORT only after the scheduler has accepted it).
fn start(w: &Work) -> Cluster {
    let (s, executors) = free_ports(2);
    let listen = format!("127.0.0.1:{s}");
    let mut cluster = Cluster {
        children: vec![spawn(
            w,
            &["cluster", "scheduler", "--listen", &listen],
            "scheduler.log",
            None,
        )],
        url: format!("df://{listen}"),
    };
    wait_for(
        w,
        &mut cluster.children[0],
        s,
        "the scheduler",
        "scheduler.log",
    );
    for (i, e) in executors.into_iter().enumerate() {
        // Executor 0 uses its default work folder (in its TMPDIR, here a folder of the test),
        // executor 1 the folder it is given.
        let work_dir = w.path(&format!("executor{i}"));
        std::fs::create_dir_all(&work_dir).unwrap();
        let log = format!("executor{i}.log");
        let listen_e = format!("127.0.0.1:{e}");
        let mut args = vec![
            "cluster",
            "executor",
            "--scheduler",
            &listen,
            "--listen",
            &listen_e,
            "--tasks",
            "2",
        ];
        let tmpdir = if i == 0 {
            Some(work_dir.as_path())
        } else {
            args.extend_from_slice(&["--work-dir", work_dir.to_str().unwrap()]);
            None
        };
        cluster.children.push(spawn(w, &args, &log, tmpdir));
        let child = cluster.children.last_mut().unwrap();
        wait_for(w, child, e, &format!("executor {i}"), &log);
    }
    cluster
}

fn ok(o: &std::process::Output, what: &str, w: &Work) {
    let logs: String = ["scheduler.log", "executor0.log", "executor1.log"]
        .iter()
        .map(|f| std::fs::read_to_string(w.path(f)).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n----\n");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{what}: {:?}\nlogs:\n{}",
        text(o),
        &logs[logs.len().saturating_sub(4000)..]
    );
}

/// The work folders of the executors: executor 0's default one (`spotcheck-executor-PID` in
/// its TMPDIR, `executor0/`), executor 1's `executor1/`.
fn work_dirs(w: &Work) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(w.path("executor0"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("spotcheck-executor-")
        })
        .collect();
    dirs.push(w.path("executor1"));
    dirs
}

/// Jobs whose output the executors have written into their work folders so far (one folder per
/// job): evidence that a run went through the executors.
fn executor_jobs(w: &Work) -> usize {
    work_dirs(w)
        .iter()
        .map(|d| std::fs::read_dir(d).map(|d| d.count()).unwrap_or(0))
        .sum()
}

/// `path` written as an Arrow IPC *stream* (no footer) with the rows of the Parquet file `from`.
fn ipc_stream(from: &std::path::Path, path: &std::path::Path) {
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(from).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let mut out = arrow::ipc::writer::StreamWriter::try_new(
        std::fs::File::create(path).unwrap(),
        &arrow::array::RecordBatchReader::schema(&reader),
    )
    .unwrap();
    for b in reader {
        out.write(&b.unwrap()).unwrap();
    }
    out.finish().unwrap();
}

/// `score` on this machine and with `--cluster`, the same bytes out: scored file, rejects, counts.
fn score_here_and_there(
    w: &Work,
    url: &str,
    input: &str,
    emissions: &str,
    out: &str,
    extra: &[&str],
) {
    let run = |dir: &str, cluster: Option<&str>| {
        std::fs::create_dir_all(w.path(dir)).unwrap();
        let output = format!("{dir}/{out}");
        let mut args = vec![
            "score",
            input,
            "--emissions",
            emissions,
            "-o",
            &output,
            "-q",
        ];
        args.extend_from_slice(extra);
        if let Some(u) = cluster {
            args.extend_from_slice(&["--cluster", u]);
        }
        let o = w.run(&args);
        ok(&o, &format!("score {input} {extra:?} {cluster:?}"), w);
        o
    };
    let jobs = executor_jobs(w);
    let here = run("score-here", None);
    let there = run("score-there", Some(url));
    assert!(
        executor_jobs(w) > jobs,
        "score --cluster left no job output on the executors"
    );
    assert_eq!(
        text(&here).0.replace("score-here/", "score-there/"),
        text(&there).0,
        "counts differ"
    );
    let stem = out.rsplit_once('.').unwrap().0;
    for f in [out.to_string(), format!("{stem}.rejects.csv")] {
        let a = std::fs::read(w.path(&format!("score-here/{f}"))).unwrap();
        let b = std::fs::read(w.path(&format!("score-there/{f}"))).unwrap();
        assert!(
            a == b,
            "{f} differs between one machine and the cluster ({input} {extra:?})"
        );
    }
    // No copy of the gathered tables is left beside the output.
    let left: Vec<_> = std::fs::read_dir(w.path("score-there"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The §4 draw as SQL window functions (`spotcheck::sql::systematic_draw_sql`), run on this
/// machine and on the cluster, selects exactly the units `sample` draws (no history, no capacity),
/// in the same order. Returns how many were drawn.
fn window_draw_matches(
    w: &Work,
    url: &str,
    scored: &str,
    seed: &str,
    department: Department,
    strata: Strata,
) -> usize {
    let name = format!("{}-{}", department.en(), strata.en());
    let o = w.run(&[
        "sample",
        scored,
        "--month",
        "2026-12",
        "--department",
        department.en(),
        "--strata",
        strata.en(),
        "--seed",
        seed,
        "-o",
        &format!("{name}.csv"),
        "-q",
    ]);
    ok(&o, "sample", w);
    let drawn: Vec<String> = {
        let rows = read_csv(&w.path(&format!("{name}.csv")));
        let col = rows[0].iter().position(|h| h == "uscc").unwrap();
        rows[1..].iter().map(|r| r[col].clone()).collect()
    };
    assert!(drawn.len() > 10, "{name}: {} drawn", drawn.len());
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(w.path(&format!("{name}.manifest.json"))).unwrap(),
    )
    .unwrap();
    let q = spotcheck::sql::systematic_draw_sql("scored", seed, department, "2026-12", strata);
    for cluster in [None, Some(url)] {
        let out = format!("{name}-window-{}.csv", cluster.is_some());
        let table = format!("scored={scored}");
        let mut args = vec!["sql", q.as_str(), "--table", &table, "-o", &out];
        if let Some(u) = cluster {
            args.extend_from_slice(&["--cluster", u]);
        }
        let o = w.run(&args);
        ok(&o, "sql window draw", w);
        let rows = read_csv(&w.path(&out));
        let (u, sel) = (
            rows[0].iter().position(|h| h == "uscc").unwrap(),
            rows[0].iter().position(|h| h == "selected").unwrap(),
        );
        let selected: Vec<String> = rows[1..]
            .iter()
            .filter(|r| r[sel] == "true")
            .map(|r| r[u].clone())
            .collect();
        assert!(
            selected == drawn,
            "{name} (cluster: {cluster:?}): the window draw selects {} units, sample {}",
            selected.len(),
            drawn.len()
        );
        // Every stratum's Σπ (the last running sum) equals the manifest's to the last bit: the
        // window added the π in §4's order (thousands of additions per stratum; another order
        // would differ in the last bits), and its eligible units are the draw's.
        let (st, t) = (
            rows[0].iter().position(|h| h == "stratum").unwrap(),
            rows[0].iter().position(|h| h == "t_after").unwrap(),
        );
        for s in manifest["per_stratum"].as_array().unwrap() {
            let stratum = s["stratum"].as_str().unwrap();
            let mine: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r[st] == stratum).collect();
            assert_eq!(
                mine.len() as u64,
                s["eligible"].as_u64().unwrap(),
                "{name} {stratum}"
            );
            let last: f64 = mine.last().unwrap()[t].parse().unwrap();
            assert_eq!(
                last.to_bits(),
                s["pi_sum"].as_f64().unwrap().to_bits(),
                "{name} {stratum}: Σπ {last} vs the manifest's {}",
                s["pi_sum"]
            );
        }
    }
    drawn.len()
}

/// Names in `kill/` (the interrupted runs' output folder).
#[cfg(unix)]
fn kill_dir(w: &Work) -> Vec<String> {
    std::fs::read_dir(w.path("kill"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Starts `args` (writing into `kill/`), sends `sig` once its scratch folder `.NAME.cluster-PID`
/// exists, and checks that the process ended by that signal leaving nothing in `kill/`. A run
/// that ends before the folder is seen is started again (up to five times).
#[cfg(unix)]
fn interrupted_run_leaves_nothing(w: &Work, args: &[&str], sig: libc::c_int) {
    use std::os::unix::process::ExitStatusExt;
    for _ in 0..5 {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("spotcheck"))
            .current_dir(w.dir.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let scratch = format!(".cluster-{}", child.id());
        let t0 = Instant::now();
        let mut ended = false;
        while !kill_dir(w).iter().any(|n| n.ends_with(&scratch)) {
            if child.try_wait().unwrap().is_some() {
                ended = true;
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(120),
                "no scratch folder appeared: {args:?}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        if ended {
            for n in kill_dir(w) {
                let p = w.path(&format!("kill/{n}"));
                let _ = std::fs::remove_file(&p).or_else(|_| std::fs::remove_dir_all(&p));
            }
            continue;
        }
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: a signal to a child process of this test.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(sig), "{args:?}: {status:?}");
        assert_eq!(kill_dir(w), Vec::<String>::new(), "{args:?} left these");
        return;
    }
    panic!("{args:?} ended five times before its scratch folder was seen");
}

#[test]
fn a_local_cluster_gives_the_same_outputs_as_one_machine() {
    let w = Work::new();
    let data = repo().join("data/sample");
    let o = w.run(&[
        "score",
        data.join("enterprises.csv").to_str().unwrap(),
        "--emissions",
        data.join("emissions.csv").to_str().unwrap(),
        "-o",
        "scored.parquet",
        "-q",
    ]);
    ok(&o, "score", &w);
    let mut cluster = start(&w);

    // score: data/sample as Parquet (the cluster reads columnar files), and a damaged copy with
    // duplicate and invalid codes, classes left to the model and orphan emission rows.
    let e = data.join("enterprises.csv").display().to_string();
    let m = data.join("emissions.csv").display().to_string();
    for (q, table, file) in [
        ("SELECT * FROM t", &e, "enterprises.parquet"),
        ("SELECT * FROM t", &m, "emissions.parquet"),
    ] {
        let o = w.run(&["sql", q, "--table", &format!("t={table}"), "-o", file]);
        ok(&o, "sql to Parquet", &w);
    }
    let damaged = "SELECT CASE WHEN name LIKE '%科技%' THEN 'X' || uscc ELSE uscc END AS uscc, \
                   name, district, tier, \
                   CASE WHEN employees > '200' THEN NULL ELSE credit_class END AS credit_class, \
                   years_in_operation, registered_capital_wan, employees, abnormal_list_3y, \
                   admin_penalties_3y, serious_illegal, annual_report_late_3y, tax_credit_grade, \
                   judgment_debtor, complaints_12m, permit_class, env_risk_level, air_q, air_m, \
                   air_e, water_q, water_m, water_e, env_penalties_24m, env_incidents_24m, \
                   env_serious_violation_36m, online_monitoring \
                   FROM t WHERE district <> '110108' \
                   UNION ALL SELECT uscc, name, district, tier, credit_class, years_in_operation, \
                   registered_capital_wan, employees, abnormal_list_3y, admin_penalties_3y, \
                   serious_illegal, annual_report_late_3y, tax_credit_grade, judgment_debtor, \
                   complaints_12m, permit_class, env_risk_level, air_q, air_m, air_e, water_q, \
                   water_m, water_e, env_penalties_24m, env_incidents_24m, \
                   env_serious_violation_36m, online_monitoring FROM t WHERE district = '110105'";
    let o = w.run(&[
        "sql",
        damaged,
        "--table",
        "t=enterprises.parquet",
        "-o",
        "damaged.parquet",
    ]);
    ok(&o, "sql damaged", &w);
    for input in ["enterprises.parquet", "damaged.parquet"] {
        score_here_and_there(
            &w,
            &cluster.url,
            input,
            "emissions.parquet",
            "scored.csv",
            &[],
        );
        score_here_and_there(
            &w,
            &cluster.url,
            input,
            "emissions.parquet",
            "scored.parquet",
            &["--no-model", "--lang", "zh"],
        );
    }
    let rejects = std::fs::read_to_string(w.path("score-there/scored.rejects.csv")).unwrap();
    for reason in ["USCC_DUPLICATE", "EMISSION_ORPHAN"] {
        assert!(rejects.contains(reason), "damaged input gives {reason}");
    }
    let scored = std::fs::read_to_string(w.path("score-there/scored.csv")).unwrap();
    assert!(
        scored.contains(",model,"),
        "the credit model classified rows"
    );

    // A CSV table is refused on the cluster with a sentence, and nothing is written.
    let o = w.run(&["score", &e, "-o", "y.csv", "--cluster", &cluster.url]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("Parquet or Arrow IPC"),
        "{:?}",
        text(&o)
    );
    assert!(!w.path("y.csv").exists());

    // The same query on this machine and on the executors: every row, the same bytes.
    let q = "SELECT uscc, spotcheck_market_ratio(credit_class, tier) AS m, \
             spotcheck_risk_score(credit_class, env_risk_level, emission_band) AS r, \
             spotcheck_order_key('2026-12 lottery 0387', 'market', '2026-12', uscc) AS k, \
             spotcheck_pi(eco_ratio) AS pi \
             FROM scored ORDER BY k";
    let o = w.run(&[
        "sql",
        q,
        "--table",
        "scored=scored.parquet",
        "-o",
        "local.csv",
    ]);
    ok(&o, "local sql", &w);
    let o = w.run(&[
        "sql",
        q,
        "--table",
        "scored=scored.parquet",
        "-o",
        "cluster.csv",
        "--cluster",
        &cluster.url,
    ]);
    ok(&o, "sql --cluster", &w);
    let local = std::fs::read(w.path("local.csv")).unwrap();
    assert_eq!(local.iter().filter(|b| **b == b'\n').count(), 3001);
    assert!(
        local == std::fs::read(w.path("cluster.csv")).unwrap(),
        "sql results differ"
    );

    // The draw as window functions on the executors: the same selection as sample, on
    // data/sample and on 10^5 generated enterprises.
    let seed = "2026-12 lottery 0387";
    let n = window_draw_matches(
        &w,
        &cluster.url,
        "scored.parquet",
        seed,
        Department::Market,
        Strata::District,
    );
    assert!(n > 20);
    window_draw_matches(
        &w,
        &cluster.url,
        "scored.parquet",
        seed,
        Department::Ecology,
        Strata::Tier,
    );
    let o = w.run(&[
        "gen",
        "--rows",
        "100000",
        "--seed",
        "7",
        "-o",
        "gen.parquet",
        "--emissions",
        "gen-emissions.parquet",
    ]);
    ok(&o, "gen", &w);
    let o = w.run(&[
        "score",
        "gen.parquet",
        "--emissions",
        "gen-emissions.parquet",
        "-o",
        "gen-scored.parquet",
        "-q",
    ]);
    ok(&o, "score gen", &w);
    // score --cluster on 10^5 rows, more than one of the reader's batches: as Parquet, and as an
    // Arrow IPC file of DataFusion's 8192-row batches (the local reader keeps a file's batches,
    // and a Parquet output's pages follow them).
    let o = w.run(&[
        "sql",
        "SELECT * FROM t",
        "--table",
        "t=gen.parquet",
        "-o",
        "gen.arrow",
    ]);
    ok(&o, "sql to Arrow", &w);
    for input in ["gen.parquet", "gen.arrow"] {
        score_here_and_there(
            &w,
            &cluster.url,
            input,
            "gen-emissions.parquet",
            "gen-rescored.parquet",
            &[],
        );
    }
    let n = window_draw_matches(
        &w,
        &cluster.url,
        "gen-scored.parquet",
        "S 1",
        Department::Market,
        Strata::District,
    );
    assert!(n > 900, "{n}");
    window_draw_matches(
        &w,
        &cluster.url,
        "gen-scored.parquet",
        "it's 2",
        Department::Ecology,
        Strata::None,
    );

    // The joint draw with history, inspectors and a capacity, here and with --cluster.
    for dir in ["here", "there"] {
        std::fs::create_dir_all(w.path(dir)).unwrap();
    }
    let draw = |dir: &str, cluster_url: Option<&str>| {
        let mut args = vec![
            "sample".to_string(),
            w.path("scored.parquet").display().to_string(),
            "--month".into(),
            "2026-12".into(),
            "--department".into(),
            "joint".into(),
            "--seed".into(),
            "2026-12 lottery 0387".into(),
            "--history".into(),
            data.join("history.csv").display().to_string(),
            "--inspectors".into(),
            data.join("inspectors.csv").display().to_string(),
            "--capacity".into(),
            "market=40,ecology=25".into(),
            "-o".into(),
            format!("{dir}/sample.csv"),
            "--public".into(),
            format!("{dir}/public.csv"),
            "-q".into(),
        ];
        if let Some(u) = cluster_url {
            args.push("--cluster".into());
            args.push(u.into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        w.run(&args)
    };
    let here = draw("here", None);
    let there = draw("there", Some(&cluster.url));
    assert_eq!(
        here.status.code(),
        there.status.code(),
        "{:?} / {:?}",
        text(&here),
        text(&there)
    );
    ok(&there, "sample --cluster", &w);
    for f in ["sample.csv", "public.csv"] {
        let a = std::fs::read(w.path(&format!("here/{f}"))).unwrap();
        let b = std::fs::read(w.path(&format!("there/{f}"))).unwrap();
        assert!(a.len() > 500, "{f} has visits");
        assert!(a == b, "{f} differs between one machine and the cluster");
    }
    let m_here = std::fs::read_to_string(w.path("here/sample.manifest.json")).unwrap();
    let m_there = std::fs::read_to_string(w.path("there/sample.manifest.json")).unwrap();
    assert!(m_here.contains("\"sha256\""));
    assert_eq!(
        m_here.replace("here/", "there/"),
        m_there,
        "manifests differ"
    );

    // The frame's rows came back into a scratch folder beside the output, removed since.
    let left: Vec<_> = std::fs::read_dir(w.path("there"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");

    // verify re-derives the cluster's draw on this machine.
    let o = w.run(&["verify", "there/sample.manifest.json"]);
    ok(&o, "verify", &w);

    // A CSV scored table is refused on the cluster with a sentence, and nothing is written.
    let o = w.run(&[
        "sample",
        data.join("enterprises.csv").to_str().unwrap(),
        "--month",
        "2026-12",
        "--department",
        "market",
        "--seed",
        "s",
        "-o",
        "x.csv",
        "--cluster",
        &cluster.url,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("Parquet or Arrow IPC"),
        "{:?}",
        text(&o)
    );
    assert!(!w.path("x.csv").exists());

    // An Arrow IPC stream (which the executors cannot read) is refused up front with what to do,
    // as an input of score and as the scored table of sample; nothing is written.
    ipc_stream(&w.path("gen.parquet"), &w.path("gen-stream.arrows"));
    ipc_stream(&w.path("scored.parquet"), &w.path("scored-stream.arrow"));
    let score_stream = [
        "score",
        "gen-stream.arrows",
        "--emissions",
        "gen-emissions.parquet",
        "-o",
        "stream-scored.parquet",
    ];
    let sample_stream = [
        "sample",
        "scored-stream.arrow",
        "--month",
        "2026-12",
        "--department",
        "market",
        "--seed",
        "s",
        "-o",
        "stream-sample.csv",
    ];
    for args in [&score_stream[..], &sample_stream[..]] {
        let here = w.run(args);
        ok(&here, "a stream read on this machine", &w);
        let out = args[args.len() - 1];
        std::fs::remove_file(w.path(out)).unwrap();
        let mut args = args.to_vec();
        args.extend_from_slice(&["--cluster", &cluster.url]);
        let o = w.run(&args);
        assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
        let err = text(&o).1;
        assert!(
            err.contains("Arrow IPC stream") && err.contains("-o FILE.parquet"),
            "{err}"
        );
        assert!(!w.path(out).exists());
    }

    // Ctrl-C or SIGTERM during score/sample --cluster removes the scratch folder beside the
    // output at once, and no output or temporary file is left.
    #[cfg(unix)]
    {
        let score_kill = [
            "score",
            "gen.parquet",
            "--emissions",
            "gen-emissions.parquet",
            "-o",
            "kill/scored.parquet",
            "-q",
            "--cluster",
            &cluster.url,
        ];
        let sample_kill = [
            "sample",
            "gen-scored.parquet",
            "--month",
            "2026-12",
            "--department",
            "market",
            "--seed",
            "s",
            "-o",
            "kill/sample.csv",
            "-q",
            "--cluster",
            &cluster.url,
        ];
        std::fs::create_dir_all(w.path("kill")).unwrap();
        for (args, sig) in [
            (&score_kill[..], libc::SIGINT),
            (&sample_kill[..], libc::SIGTERM),
        ] {
            interrupted_run_leaves_nothing(&w, args, sig);
        }
    }

    // Executor 0 stopped as an operator stops it (SIGTERM) removes its default work folder; the
    // folder given to executor 1 stays.
    let default_dirs = work_dirs(&w);
    assert_eq!(default_dirs.len(), 2, "{default_dirs:?}");
    let pid = cluster.children[1].id();
    assert!(
        default_dirs[0].ends_with(format!("spotcheck-executor-{pid}")),
        "{default_dirs:?}"
    );
    // SAFETY: a signal to a child process of this test.
    #[cfg(unix)]
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
    let t0 = Instant::now();
    while cluster.children[1].try_wait().unwrap().is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "executor 0 did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!default_dirs[0].exists(), "{default_dirs:?} left behind");
    assert!(w.path("executor1").exists());
    drop(cluster);
}

/// What the IT person gets wrong, without a cluster: a scheduler URL that is not `df://HOST:PORT`
/// or where nothing answers, for sql, score and sample; a scheduler or executor port already in
/// use. Each is exit 2 with one sentence, quickly, and writes nothing.
#[test]
fn wrong_addresses_and_ports_are_one_sentence() {
    let w = Work::new();
    let (free, _) = free_ports(0);
    let refused = format!("df://127.0.0.1:{free}");
    let data = repo().join("data/sample");
    let ent = data.join("enterprises.csv").display().to_string();
    w.write("scored.parquet", "");
    for (url, expect) in [
        (
            "http://127.0.0.1:50050",
            "is not a scheduler URL df://HOST:PORT",
        ),
        ("df://127.0.0.1", "is not HOST:PORT"),
        (refused.as_str(), "no scheduler answers at"),
    ] {
        let t = format!("t={ent}");
        let sql = ["sql", "SELECT 1", "--table", &t, "-o", "out.csv"];
        let score = ["score", "scored.parquet", "-o", "out.parquet"];
        let sample = [
            "sample",
            "scored.parquet",
            "--month",
            "2026-12",
            "--department",
            "market",
            "--seed",
            "s",
            "-o",
            "out.csv",
        ];
        for args in [&sql[..], &score[..], &sample[..]] {
            let mut args = args.to_vec();
            args.extend_from_slice(&["--cluster", url]);
            let t0 = Instant::now();
            let o = w.run(&args);
            let err = text(&o).1;
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(expect), "{args:?}: {err}");
            assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
            assert!(!err.contains("tonic") && !err.contains("Os {"), "{err}");
            assert!(t0.elapsed() < Duration::from_secs(20), "{args:?} took long");
            assert!(!w.path("out.csv").exists() && !w.path("out.parquet").exists());
        }
    }
    // Ports in use: the scheduler's, and the executor's PORT + 1 (PORT itself free).
    let (_, pair) = free_ports(1);
    let port = pair[0] + 1;
    let held = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let listen = format!("127.0.0.1:{port}");
    let below = format!("127.0.0.1:{}", pair[0]);
    for args in [
        &["cluster", "scheduler", "--listen", &listen][..],
        &[
            "cluster",
            "executor",
            "--scheduler",
            &refused[5..],
            "--listen",
            &below,
        ],
    ] {
        let o = w.run(args);
        let err = text(&o).1;
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("port {port} on 127.0.0.1 is already in use")),
            "{args:?}: {err}"
        );
    }
    drop(held);
}
