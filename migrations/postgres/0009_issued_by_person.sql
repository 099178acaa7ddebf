-- Page sign-in looks up the mandates issued to a person.
CREATE INDEX issued_credentials_by_person ON issued_credentials (person_id);
