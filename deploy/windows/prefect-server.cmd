@echo off
rem Prefect server for the nightly reconciliation. Started at boot by Task Scheduler (README).
set PREFECT_HOME=C:\doisoat\prefect
set PREFECT_SERVER_ANALYTICS_ENABLED=false
C:\doisoat\venv\Scripts\prefect.exe server start --host 127.0.0.1 --port 4200
