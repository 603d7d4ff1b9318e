//! SUBSCRIBE and UNSUBSCRIBE handling of the test broker: checks, granted
//! QoS, retained messages on subscribe, and the acknowledgements.

use mqttspec::codec::{encode, Packet, Suback, Subscribe, Unsuback, Unsubscribe, Version};

use super::conn::{bump, close, lock, text_ok, Conn, Handled};
use super::topics;

impl Conn {
    pub(super) fn subscribe(&mut self, s: Subscribe) -> Handled {
        let f = self.faults;
        if s.filters.is_empty() && !f.accept_empty_subscribe {
            return close();
        }
        if s.packet_id == 0 && !f.accept_packet_id_zero {
            return close();
        }
        for sub in &s.filters {
            if (sub.options & 0xfc != 0 || sub.qos() == 3) && !f.accept_subscribe_qos3 {
                return close();
            }
            if !text_ok(&sub.filter, &f) {
                return close();
            }
            if f.close_on_dollar_subscribe && sub.filter.lossy().starts_with('$') {
                return close();
            }
        }
        let mut st = lock(&self.state);
        let mut codes = Vec::new();
        let mut retained = Vec::new();
        let Some(id) = self.client_id.clone() else {
            return close();
        };
        for sub in &s.filters {
            let flt = sub.filter.lossy().into_owned();
            if !topics::valid_filter(&flt) && !f.accept_invalid_filters
                || f.refuse_dollar_subscribe && flt.starts_with('$')
            {
                codes.push(0x80);
                continue;
            }
            let g = sub.qos().min(2);
            retained.extend(st.retained_for(&flt, g));
            let Some(sess) = st.sessions.get_mut(&id) else {
                return close();
            };
            match sess.subs.iter_mut().find(|(x, _)| *x == flt) {
                Some(e) if !f.subscribe_duplicates_instead_of_replace => e.1 = g,
                _ => sess.subs.push((flt, g)),
            }
            codes.push(g);
        }
        if let Some(sess) = st.sessions.get_mut(&id) {
            for m in retained {
                sess.deliver(m, &f);
            }
        }
        if f.suback_codes_reversed {
            codes.reverse();
        }
        if f.suback_missing_code {
            codes.pop();
        }
        let p = Suback {
            packet_id: bump(s.packet_id, f.suback_wrong_packet_id),
            codes,
            ..Suback::default()
        };
        Ok(vec![encode(&Packet::Suback(p), Version::V311)])
    }

    pub(super) fn unsubscribe(&mut self, u: Unsubscribe) -> Handled {
        let f = self.faults;
        if u.filters.is_empty() && !f.accept_empty_unsubscribe {
            return close();
        }
        if u.packet_id == 0 && !f.accept_packet_id_zero {
            return close();
        }
        if u.filters.iter().any(|t| !text_ok(t, &f)) {
            return close();
        }
        let mut st = lock(&self.state);
        let Some(sess) = self.client_id.as_ref().and_then(|c| st.sessions.get_mut(c)) else {
            return close();
        };
        let before = sess.subs.len();
        if !f.unsubscribe_ignored {
            let gone: Vec<String> = u.filters.iter().map(|t| t.lossy().into_owned()).collect();
            let by_match = f.unsubscribe_by_matching;
            sess.subs.retain(|(x, _)| {
                !gone
                    .iter()
                    .any(|g| g == x || (by_match && topics::matches(g, x, true)))
            });
        }
        if sess.subs.len() == before && f.no_unsuback_when_nothing_deleted {
            return Ok(Vec::new());
        }
        let p = Unsuback {
            packet_id: bump(u.packet_id, f.unsuback_wrong_packet_id),
            ..Unsuback::default()
        };
        Ok(vec![encode(&Packet::Unsuback(p), Version::V311)])
    }
}
