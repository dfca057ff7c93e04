-- Run once by the postgres image on an empty data volume: one database per service that owns data.
CREATE DATABASE identity OWNER priyom;
CREATE DATABASE tickets OWNER priyom;
