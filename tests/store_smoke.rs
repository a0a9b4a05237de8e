mod store_common;
use store_common::*;

#[test]
fn appends_and_reopens() {
    let mut mem = memory();
    {
        let mut store = open(&mut mem);
        for i in 0..200 {
            let out = store.insert(sized("group:g1", &format!("m{i:04}"), 1000 + i, "bob", 450)).unwrap();
            assert_eq!(out, mpchat::store::InsertOutcome::Stored);
        }
        assert_eq!(all_history(&mut store, "group:g1").len(), 200);
    }
    let mut store = open(&mut mem);
    let h = all_history(&mut store, "group:g1");
    assert_eq!(h.len(), 200);
    assert_eq!(store.unread_total(), 200);
    println!("{:?}", store.report());
    println!("{:?}", mem.key_list().len());
}
