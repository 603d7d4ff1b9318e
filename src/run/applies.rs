//! Whether a case applies to the run's target: cases tagged `tls` need an
//! `mqtts://` target; cases tagged `mtls` also need the run to present a
//! client certificate (`--cert/--key`), which says the broker under test
//! requires one. A case that does not apply is reported as skipped, with why.

use crate::case::{Case, TAG_MTLS, TAG_TLS};
use crate::transport::tls::Material;
use crate::transport::Target;

/// Why `case` does not apply to this run, or None when it does.
pub fn not_applicable(case: &Case, target: &Target, tls: Option<&Material>) -> Option<String> {
    let has = |t: &str| case.tags.iter().any(|x| x == t);
    let (tls_case, mtls_case) = (has(TAG_TLS), has(TAG_MTLS));
    if !tls_case && !mtls_case {
        return None;
    }
    if !target.scheme.uses_tls() {
        return Some(format!(
            "not applicable: a TLS case and the target {} is not TLS (use mqtts:// or wss://)",
            target.url
        ));
    }
    if mtls_case && !tls.is_some_and(Material::has_client_cert) {
        return Some(
            "not applicable: a client-certificate case and the run presents no client certificate (give --cert/--key when the broker requires one)"
                .into(),
        );
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::transport::tls::TlsFiles;

    fn case(tags: &[&str]) -> Case {
        let text = format!(
            "id = \"c\"\ntitle = \"t\"\ndescription = \"d\"\nstatements = [\"MQTT-3.1.4-4\"]\ntags = {tags:?}\n\n[[step]]\nconnect = \"a\"\n"
        );
        crate::case::parse_case(std::path::Path::new("c.toml"), &text).unwrap()
    }

    fn material(cert: bool) -> Material {
        Material {
            files: TlsFiles {
                ca: Some("ca.pem".into()),
                cert: cert.then(|| "client.pem".into()),
                key: cert.then(|| "client.key".into()),
            },
            fixtures: "certs".into(),
        }
    }

    #[test]
    fn tls_cases_skip_on_plain_targets_and_mtls_without_a_client_certificate() {
        let plain = Target::parse("mqtt://127.0.0.1:1883").unwrap();
        let tls = Target::parse("mqtts://127.0.0.1:8883").unwrap();
        let (with, without) = (material(true), material(false));
        assert_eq!(not_applicable(&case(&["publish"]), &plain, None), None);
        assert!(not_applicable(&case(&["tls"]), &plain, None)
            .unwrap()
            .contains("not TLS"));
        assert!(not_applicable(&case(&["mtls"]), &plain, None).is_some());
        assert_eq!(not_applicable(&case(&["tls"]), &tls, Some(&without)), None);
        assert!(not_applicable(&case(&["mtls"]), &tls, Some(&without))
            .unwrap()
            .contains("--cert"));
        assert_eq!(not_applicable(&case(&["mtls"]), &tls, Some(&with)), None);
    }
}
