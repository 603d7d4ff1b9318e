//! Print frame number, time and link type of a capture (debugging aid).
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: frames FILE");
        std::process::exit(2);
    };
    let Ok(f) = std::fs::File::open(&path) else {
        eprintln!("cannot open {path}");
        std::process::exit(2);
    };
    let mut n = 0;
    let r = mqttspec::capture::read::read(f, &mut |fr| {
        n += 1;
        if n <= 5 {
            println!(
                "{} {:?} lt={} len={}",
                fr.number,
                fr.ts,
                fr.linktype,
                fr.data.len()
            );
        }
    });
    println!("{r:?}");
}
