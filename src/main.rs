//! The `mqttspec` command.

fn main() {
    println!("mqttspec");
}
