-- Run once by the postgres image on an empty data volume: one database per service that owns data
-- (tests/contract/test_compose.py checks this list against the services' *_DATABASE_URL secrets).
CREATE DATABASE identity OWNER priyom;
CREATE DATABASE tickets OWNER priyom;
CREATE DATABASE router OWNER priyom;
CREATE DATABASE intake_email OWNER priyom;
CREATE DATABASE intake_messenger OWNER priyom;
CREATE DATABASE intake_telephony OWNER priyom;
CREATE DATABASE portal OWNER priyom;
