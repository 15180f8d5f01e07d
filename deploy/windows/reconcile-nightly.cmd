@echo off
rem Serves the nightly deployment (02:00 Asia/Ho_Chi_Minh). Started at boot by Task Scheduler.
set PREFECT_HOME=C:\doisoat\prefect
set PREFECT_API_URL=http://127.0.0.1:4200/api
rem wait for the server to come up after boot
timeout /t 60 /nobreak >nul
C:\doisoat\venv\Scripts\reconcile.exe nightly serve --inbox C:\doisoat\hop_thu --out C:\doisoat\ket_qua --keep 30
