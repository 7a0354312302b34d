//! Criterion benches of the credit scorecard: training on 10⁴ labelled rows and scoring 10⁴ and
//! 10⁵ rows (`CreditPredictor::predict_batch`), on fixed-seed synthetic enterprises (ChaCha8Rng)
//! with five features of every kind: numeric with missing values, counts, a boolean flag, a text
//! grade.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spotcheck::credit::{TrainParams, train};
use spotcheck::predict::CreditPredictor;

fn synth(n: usize, seed: u64) -> RecordBatch {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let grades = ["A", "B", "M", "C", "D"];
    let (mut years, mut pen, mut serious, mut grade, mut emp, mut class) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let y: f64 = rng.random_range(0.0..30.0);
        let p = (0..6).take_while(|_| rng.random::<f64>() < 0.35).count() as i64;
        let s = rng.random::<f64>() < 0.03;
        let g = rng.random_range(0..5usize);
        let e: i64 = rng.random_range(1..500);
        let u: f64 = rng.random_range(1e-9..1.0);
        let z = -0.1 * y
            + 0.8 * p as f64
            + 3.0 * f64::from(u8::from(s))
            + 0.4 * g as f64
            + 0.6 * (u / (1.0 - u)).ln()
            + 1.0;
        years.push((rng.random::<f64>() >= 0.05).then_some(y));
        pen.push(p);
        serious.push(s);
        grade.push(grades[g]);
        emp.push(e);
        class.push(["A", "B", "C", "D"][[-1.0, 0.6, 1.8].iter().filter(|&&c| z >= c).count()]);
    }
    RecordBatch::try_from_iter([
        (
            "years_in_operation",
            Arc::new(Float64Array::from(years)) as ArrayRef,
        ),
        (
            "admin_penalties_3y",
            Arc::new(Int64Array::from(pen)) as ArrayRef,
        ),
        (
            "serious_illegal",
            Arc::new(BooleanArray::from(serious)) as ArrayRef,
        ),
        (
            "tax_credit_grade",
            Arc::new(StringArray::from(grade)) as ArrayRef,
        ),
        ("employees", Arc::new(Int64Array::from(emp)) as ArrayRef),
        (
            "credit_class",
            Arc::new(StringArray::from(class)) as ArrayRef,
        ),
    ])
    .expect("fixed schema")
}

fn benches(c: &mut Criterion) {
    let params = TrainParams::new("credit_class")
        .check()
        .expect("default parameters are valid");
    let train_data = synth(10_000, 1);
    let mut g = c.benchmark_group("credit");
    g.sample_size(10);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("train/1e4", |b| {
        b.iter(|| train(std::slice::from_ref(&train_data), &params).expect("trains"))
    });
    let (model, _) = train(&[train_data], &params).expect("trains");
    for n in [10_000usize, 100_000] {
        let data = synth(n, 2);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("predict/{n}"), |b| {
            b.iter(|| model.predict_batch(&data).expect("scores"))
        });
    }
    g.finish();
}

criterion_group!(credit, benches);
criterion_main!(credit);
