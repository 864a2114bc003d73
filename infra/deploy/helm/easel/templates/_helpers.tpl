{{- define "easel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "easel.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "easel.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "easel.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "easel.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "easel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: pass (dict "root" $ "component" "api"). */}}
{{- define "easel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "easel.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "easel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "easel.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "easel.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The environment of both processes: settings from values, secrets by reference. */}}
{{- define "easel.env" -}}
{{- $secret := required "secrets.existingSecret is required: a Secret with EASEL_ADMIN_TOKEN, EASEL_METRICS_TOKEN, EASEL_IMAGE_URL_SECRET, EASEL_PAYLOAD_KEYS, MONGODB_URI" .Values.secrets.existingSecret -}}
- name: NODE_ENV
  value: production
- name: HOST
  value: 0.0.0.0
- name: PORT
  value: "8080"
- name: WORKER_METRICS_PORT
  value: "9464"
- name: EASEL_DATA_DIR
  value: /data
{{- with .Values.config.publicUrl }}
- name: EASEL_PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
- name: TEMPORAL_ADDRESS
  value: {{ required "config.temporal.address is required (the Temporal frontend, host:port)" .Values.config.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.config.temporal.namespace | quote }}
- name: TEMPORAL_TASK_QUEUE
  value: {{ .Values.config.temporal.taskQueue | quote }}
{{- with .Values.config.temporal.tls }}
{{- if .enabled }}
- name: TEMPORAL_TLS
  value: "true"
{{- end }}
{{- with .serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if and (or .serverCa .clientCertificate) (not .existingSecret) }}
{{- fail "config.temporal.tls.existingSecret is required for serverCa or clientCertificate" }}
{{- end }}
{{- if .serverCa }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: /etc/easel/temporal-tls/ca.crt
{{- end }}
{{- if .clientCertificate }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: /etc/easel/temporal-tls/tls.crt
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: /etc/easel/temporal-tls/tls.key
{{- end }}
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: EASEL_IMAGE_STORE
  value: {{ .Values.config.imageStore.type | quote }}
{{- if eq .Values.config.imageStore.type "s3" }}
{{- with .Values.config.imageStore.s3 }}
- name: EASEL_S3_BUCKET
  value: {{ required "config.imageStore.s3.bucket is required" .bucket | quote }}
- name: EASEL_S3_PREFIX
  value: {{ .prefix | quote }}
{{- with .endpoint }}
- name: EASEL_S3_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: EASEL_S3_FORCE_PATH_STYLE
  value: {{ .forcePathStyle | quote }}
- name: AWS_REGION
  value: {{ .region | quote }}
{{- end }}
{{- with .Values.secrets.s3ExistingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: { name: {{ . }}, key: AWS_ACCESS_KEY_ID }
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef: { name: {{ . }}, key: AWS_SECRET_ACCESS_KEY }
{{- end }}
{{- end }}
{{- if .Values.easelConfig }}
- name: EASEL_CONFIG
  value: /etc/easel/config.yaml
{{- end }}
{{- range $name := list "EASEL_ADMIN_TOKEN" "EASEL_METRICS_TOKEN" "EASEL_IMAGE_URL_SECRET" "EASEL_PAYLOAD_KEYS" "MONGODB_URI" }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef: { name: {{ $secret }}, key: {{ $name }} }
{{- end }}
{{- $set := list "NODE_ENV" "HOST" "PORT" "WORKER_METRICS_PORT" "EASEL_DATA_DIR" "EASEL_PUBLIC_URL" "TEMPORAL_ADDRESS" "TEMPORAL_NAMESPACE" "TEMPORAL_TASK_QUEUE" "TEMPORAL_TLS" "TEMPORAL_TLS_SERVER_NAME" "TEMPORAL_TLS_SERVER_CA_CERT_PATH" "TEMPORAL_TLS_CLIENT_CERT_PATH" "TEMPORAL_TLS_CLIENT_KEY_PATH" "LOG_LEVEL" "EASEL_IMAGE_STORE" "EASEL_S3_BUCKET" "EASEL_S3_PREFIX" "EASEL_S3_ENDPOINT" "EASEL_S3_FORCE_PATH_STYLE" "AWS_REGION" "AWS_ACCESS_KEY_ID" "AWS_SECRET_ACCESS_KEY" "EASEL_CONFIG" "EASEL_ADMIN_TOKEN" "EASEL_METRICS_TOKEN" "EASEL_IMAGE_URL_SECRET" "EASEL_PAYLOAD_KEYS" "MONGODB_URI" }}
{{- range $name, $value := .Values.config.extraEnv }}
{{- if has $name $set }}
{{- fail (printf "config.extraEnv.%s: the chart sets %s itself (from config or secrets)" $name $name) }}
{{- end }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* Volumes both processes mount: writable /tmp and /data, and the EASEL_CONFIG file. */}}
{{- define "easel.volumes" -}}
- name: tmp
  emptyDir: {}
- name: data
  emptyDir: {}
{{- if .Values.easelConfig }}
- name: config
  configMap:
    name: {{ include "easel.fullname" . }}-config
{{- end }}
{{- with .Values.config.temporal.tls.existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ . }}
    # 0440 (in decimal: YAML parsers differ on a leading 0): readable by the pod's fsGroup, as the
    # process runs as a non-root user, and by no one else.
    defaultMode: 288
{{- end }}
{{- end }}

{{- define "easel.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /data
{{- if .Values.easelConfig }}
- name: config
  mountPath: /etc/easel/config.yaml
  subPath: config.yaml
  readOnly: true
{{- end }}
{{- if .Values.config.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: /etc/easel/temporal-tls
  readOnly: true
{{- end }}
{{- end }}
