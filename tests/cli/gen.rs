//! `spotcheck gen`: same arguments → identical bytes; another seed → other data; every code valid;
//! the tables it writes are accepted by `validate` without a single rejection.

use super::{Work, read_csv, text};

fn generate(w: &Work, seed: &str, out: &str) {
    let o = w.run(&[
        "gen",
        "--rows",
        "3000",
        "--seed",
        seed,
        "-o",
        out,
        "--emissions",
        &format!("e-{out}"),
        "--history",
        &format!("h-{out}"),
        "--inspectors",
        &format!("i-{out}"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

#[test]
fn deterministic_and_valid() {
    let w = Work::new();
    generate(&w, "7", "a.csv");
    generate(&w, "7", "b.csv");
    generate(&w, "8", "c.csv");
    for t in ["", "e-", "h-", "i-"] {
        let a = std::fs::read(w.path(&format!("{t}a.csv"))).unwrap();
        let b = std::fs::read(w.path(&format!("{t}b.csv"))).unwrap();
        assert_eq!(a, b, "{t}: same seed, same bytes");
    }
    let a = std::fs::read(w.path("a.csv")).unwrap();
    let c = std::fs::read(w.path("c.csv")).unwrap();
    assert_ne!(a, c, "another seed, other data");
    let rows = read_csv(&w.path("a.csv"));
    assert_eq!(rows.len(), 3001);
    let col = rows[0].iter().position(|h| h == "uscc").unwrap();
    let mut codes: Vec<&str> = rows[1..].iter().map(|r| r[col].as_str()).collect();
    for c in &codes {
        assert!(
            matches!(
                spotcheck::uscc::check(c),
                spotcheck::uscc::UsccCheck::Valid(_)
            ),
            "{c}"
        );
    }
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 3000, "codes are unique");
    let o = w.run(&[
        "validate",
        "a.csv",
        "--emissions",
        "e-a.csv",
        "--history",
        "h-a.csv",
        "--inspectors",
        "i-a.csv",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("a.csv: read 3000 = accepted 3000 + rejected 0"),
        "{out}"
    );
}

#[test]
fn parquet_is_deterministic_too() {
    let w = Work::new();
    for name in ["x.parquet", "y.parquet"] {
        let o = w.run(&["gen", "--rows", "5000", "--seed", "1", "-o", name]);
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    }
    assert_eq!(
        std::fs::read(w.path("x.parquet")).unwrap(),
        std::fs::read(w.path("y.parquet")).unwrap()
    );
}
