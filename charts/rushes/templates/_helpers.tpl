{{/* Names, labels and shared fragments. */}}

{{- define "rushes.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rushes.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<component>", within the 63-character limit. Call with (list $ "component"). */}}
{{- define "rushes.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "rushes.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rushes.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "rushes.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rushes
{{- with .Values.global.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component. Call with (list $ "component"). */}}
{{- define "rushes.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "rushes.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "rushes.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rushes.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository:tag or repository@digest. Call with (list $ .Values.image). */}}
{{- define "rushes.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "rushes.secretName" -}}
{{- default (include "rushes.componentName" (list . "credentials")) .Values.credentials.existingSecret -}}
{{- end -}}

{{/* Endpoints: the subchart's in-cluster service, or the external one when the subchart is off. */}}
{{- define "rushes.natsUrl" -}}
{{- if .Values.nats.enabled -}}
{{- printf "nats://%s-nats.%s.svc.%s:4222" .Release.Name .Release.Namespace .Values.global.clusterDomain -}}
{{- else -}}
{{- required "nats.external.url is required when nats.enabled is false" .Values.nats.external.url -}}
{{- end -}}
{{- end -}}

{{- define "rushes.natsMonitoringEndpoint" -}}
{{- if .Values.nats.monitoringEndpoint -}}
{{- .Values.nats.monitoringEndpoint -}}
{{- else if .Values.nats.enabled -}}
{{- printf "%s-nats-headless.%s.svc.%s:8222" .Release.Name .Release.Namespace .Values.global.clusterDomain -}}
{{- else -}}
{{- required "nats.external.monitoringEndpoint is required for KEDA when nats.enabled is false" .Values.nats.external.monitoringEndpoint -}}
{{- end -}}
{{- end -}}

{{- define "rushes.s3Endpoint" -}}
{{- if .Values.minio.enabled -}}
{{- printf "%s-minio.%s.svc.%s:9000" .Release.Name .Release.Namespace .Values.global.clusterDomain -}}
{{- else -}}
{{- required "minio.external.endpoint is required when minio.enabled is false" .Values.minio.external.endpoint -}}
{{- end -}}
{{- end -}}

{{- define "rushes.tritonUrl" -}}
{{- printf "%s.%s.svc.%s:8001" (include "rushes.componentName" (list . "triton")) .Release.Namespace .Values.global.clusterDomain -}}
{{- end -}}

{{/* Pod security: the `restricted` Pod Security Standard. */}}
{{- define "rushes.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "rushes.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Credential environment of one service, every value from the credentials Secret (secretKeyRef:
     no credential is ever a plain value in a Deployment). Call with (list $ "service"). */}}
{{- define "rushes.credentialEnv" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $secret := include "rushes.secretName" $root -}}
{{- $keys := $root.Values.credentials.keys -}}
{{- if $root.Values.credentials.perService }}
- name: RUSHES_NATS__USER
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $name }}-nats-user}
- name: RUSHES_NATS__PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $name }}-nats-password}
{{- if not (has $name $root.Values.security.natsPermissions.withoutObjectStore) }}
- name: RUSHES_S3__ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $name }}-s3-access-key}
- name: RUSHES_S3__SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $name }}-s3-secret-key}
{{- end }}
{{- else }}
- name: RUSHES_NATS__USER
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.natsUser }}, optional: true}
- name: RUSHES_NATS__PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.natsPassword }}, optional: true}
- name: RUSHES_S3__ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.s3AccessKey }}}
- name: RUSHES_S3__SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.s3SecretKey }}}
{{- end }}
- name: RUSHES_POSTGRES__DSN
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $keys.postgresDsn }}}
{{- end -}}

{{/* Security settings of a service: files mounted from Secrets, named by RUSHES_* variables. */}}
{{- define "rushes.securityEnv" -}}
{{- $sec := .Values.security -}}
{{- if $sec.grpcAuth.enabled }}
- name: RUSHES_GRPC__AUTH_TOKENS_FILE
  value: {{ printf "%s/%s" $sec.grpcAuth.mountPath $sec.grpcAuth.key | quote }}
{{- end }}
{{- if $sec.grpcTls.enabled }}
- name: RUSHES_GRPC__TLS_CERT_FILE
  value: {{ printf "%s/%s" $sec.grpcTls.mountPath $sec.grpcTls.certKey | quote }}
- name: RUSHES_GRPC__TLS_KEY_FILE
  value: {{ printf "%s/%s" $sec.grpcTls.mountPath $sec.grpcTls.keyKey | quote }}
- name: RUSHES_GRPC_CLIENT_CA_FILE
  value: {{ printf "%s/%s" $sec.grpcTls.mountPath $sec.grpcTls.caKey | quote }}
{{- if $sec.grpcTls.requireClientCertificates }}
- name: RUSHES_GRPC__TLS_CLIENT_CA_FILE
  value: {{ printf "%s/%s" $sec.grpcTls.mountPath $sec.grpcTls.caKey | quote }}
{{- end }}
{{- end }}
{{- include "rushes.natsTlsEnv" . }}
{{- end -}}

{{- define "rushes.securityVolumeMounts" -}}
{{- $sec := .Values.security -}}
{{- if $sec.grpcAuth.enabled }}
- name: grpc-auth
  mountPath: {{ $sec.grpcAuth.mountPath }}
  readOnly: true
{{- end }}
{{- if $sec.grpcTls.enabled }}
- name: grpc-tls
  mountPath: {{ $sec.grpcTls.mountPath }}
  readOnly: true
{{- end }}
{{- include "rushes.natsTlsVolumeMount" . }}
{{- end -}}

{{/* Secret volumes: only the keys the service reads, owner-readable (the pod's fsGroup may read). */}}
{{- define "rushes.securityVolumes" -}}
{{- $sec := .Values.security -}}
{{- if $sec.grpcAuth.enabled }}
- name: grpc-auth
  secret:
    secretName: {{ include "rushes.grpcAuthSecretName" . }}
    defaultMode: 0440
    items:
      - {key: {{ $sec.grpcAuth.key }}, path: {{ $sec.grpcAuth.key }}}
{{- end }}
{{- if $sec.grpcTls.enabled }}
- name: grpc-tls
  secret:
    secretName: {{ $sec.grpcTls.secretName }}
    defaultMode: 0440
    items:
      - {key: {{ $sec.grpcTls.certKey }}, path: {{ $sec.grpcTls.certKey }}}
      - {key: {{ $sec.grpcTls.keyKey }}, path: {{ $sec.grpcTls.keyKey }}}
      - {key: {{ $sec.grpcTls.caKey }}, path: {{ $sec.grpcTls.caKey }}}
{{- end }}
{{- include "rushes.natsTlsVolume" . }}
{{- end -}}

{{- define "rushes.grpcAuthSecretName" -}}
{{- default (include "rushes.componentName" (list . "grpc-auth")) .Values.security.grpcAuth.existingSecret -}}
{{- end -}}

{{/* The gRPC health check a probe runs: kubelet's own gRPC probe when the port speaks plaintext;
     with TLS (which kubelet's gRPC probe cannot speak) files/grpc_tls_probe.py in the container,
     dialing the pod's own port under the service's DNS name. Call with (list $ "service"). */}}
{{- define "rushes.grpcHealthCheck" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- if $root.Values.security.grpcTls.enabled }}
exec:
  command: {{ list "python" "-c" ($root.Files.Get "files/grpc_tls_probe.py") (toString (int $root.Values.config.grpcPort)) (include "rushes.serviceHost" (list $root $name)) | toJson }}
timeoutSeconds: 5
{{- else }}
grpc:
  port: {{ $root.Values.config.grpcPort }}
{{- end }}
{{- end -}}

{{/* In-cluster DNS name of a service. Call with (list $ "service"). */}}
{{- define "rushes.serviceHost" -}}
{{- $root := index . 0 -}}
{{- printf "%s.%s.svc.%s" (include "rushes.componentName" (list $root (index . 1))) $root.Release.Namespace $root.Values.global.clusterDomain -}}
{{- end -}}

{{/* Security values that would render a broken or silently insecure install fail the render, naming
     the value. */}}
{{- define "rushes.validateSecurity" -}}
{{- $sec := .Values.security -}}
{{- if and $sec.grpcAuth.enabled (not $sec.grpcAuth.existingSecret) (not $sec.grpcAuth.principals) }}
{{- fail "security.grpcAuth.enabled needs security.grpcAuth.existingSecret or security.grpcAuth.principals (nobody could call anything)" }}
{{- end }}
{{- if not (regexMatch "^[A-Za-z0-9._-]+$" $sec.grpcAuth.key) }}
{{- fail (printf "security.grpcAuth.key %q must be a plain file name" $sec.grpcAuth.key) }}
{{- end }}
{{- range $i, $p := $sec.grpcAuth.principals }}
{{- if not (and (kindIs "map" $p) $p.name) }}
{{- fail (printf "security.grpcAuth.principals[%d].name is required" $i) }}
{{- end }}
{{- if not (has (toString $p.role) (list "viewer" "editor" "reviewer" "admin")) }}
{{- fail (printf "security.grpcAuth.principals[%d].role %q must be one of viewer, editor, reviewer, admin" $i (toString $p.role)) }}
{{- end }}
{{- if not (regexMatch "^[0-9a-f]{64}$" (toString $p.token_sha256)) }}
{{- fail (printf "security.grpcAuth.principals[%d].token_sha256 must be the lowercase hex SHA-256 of the token (never the token itself)" $i) }}
{{- end }}
{{- end }}
{{- if and $sec.grpcTls.enabled (not $sec.grpcTls.secretName) }}
{{- fail "security.grpcTls.secretName is required when security.grpcTls.enabled is true" }}
{{- end }}
{{- if and $sec.grpcTls.requireClientCertificates (not $sec.grpcTls.enabled) }}
{{- fail "security.grpcTls.requireClientCertificates needs security.grpcTls.enabled" }}
{{- end }}
{{- if and $sec.natsTls.enabled (not $sec.natsTls.secretName) }}
{{- fail "security.natsTls.secretName is required when security.natsTls.enabled is true" }}
{{- end }}
{{- if .Values.credentials.perService }}
{{- if hasKey .Values.services "admin" }}
{{- fail "services.admin: with credentials.perService the name admin belongs to the operators' NATS user" }}
{{- end }}
{{- range $name, $_ := .Values.services }}
{{- if not (hasKey $sec.natsPermissions.serviceEvents $name) }}
{{- fail (printf "security.natsPermissions.serviceEvents.%s is missing: with credentials.perService every service needs its NATS permissions (an empty list publishes only progress events)" $name) }}
{{- end }}
{{- if and (not (has $name $sec.natsPermissions.withoutObjectStore)) (not (hasKey $sec.s3Policies.serviceWrites $name)) }}
{{- fail (printf "security.s3Policies.serviceWrites.%s is missing: with credentials.perService every service with an S3 key needs its write patterns (an empty list writes nothing)" $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* A Secret value kept from the installed Secret, else 32 random characters. Call with
     (list <installed data or dict> "key"). */}}
{{- define "rushes.keptRandom" -}}
{{- $old := index . 0 -}}
{{- $key := index . 1 -}}
{{- if hasKey $old $key -}}
{{- index $old $key | b64dec -}}
{{- else -}}
{{- randAlphaNum 32 -}}
{{- end -}}
{{- end -}}

{{/* ["a", "b"] without the brackets: strings double-quoted, nothing escaped as JSON would. */}}
{{- define "rushes.quotedList" -}}
{{- range $i, $item := . }}{{ if $i }}, {{ end }}{{ quote $item }}{{ end -}}
{{- end -}}

{{/* NATS TLS of a pod (every service and the stream-setup job): its variables, mount and volume. */}}
{{- define "rushes.natsTlsEnv" -}}
{{- $sec := .Values.security -}}
{{- if $sec.natsTls.enabled }}
- name: RUSHES_NATS__TLS_CA_FILE
  value: {{ printf "%s/%s" $sec.natsTls.mountPath $sec.natsTls.caKey | quote }}
{{- if $sec.natsTls.clientCertificate }}
- name: RUSHES_NATS__TLS_CERT_FILE
  value: {{ printf "%s/%s" $sec.natsTls.mountPath $sec.natsTls.certKey | quote }}
- name: RUSHES_NATS__TLS_KEY_FILE
  value: {{ printf "%s/%s" $sec.natsTls.mountPath $sec.natsTls.keyKey | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "rushes.natsTlsVolumeMount" -}}
{{- $sec := .Values.security -}}
{{- if $sec.natsTls.enabled }}
- name: nats-tls
  mountPath: {{ $sec.natsTls.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "rushes.natsTlsVolume" -}}
{{- $sec := .Values.security -}}
{{- if $sec.natsTls.enabled }}
- name: nats-tls
  secret:
    secretName: {{ $sec.natsTls.secretName }}
    defaultMode: 0440
    items:
      - {key: {{ $sec.natsTls.caKey }}, path: {{ $sec.natsTls.caKey }}}
      {{- if $sec.natsTls.clientCertificate }}
      - {key: {{ $sec.natsTls.certKey }}, path: {{ $sec.natsTls.certKey }}}
      - {key: {{ $sec.natsTls.keyKey }}, path: {{ $sec.natsTls.keyKey }}}
      {{- end }}
{{- end }}
{{- end -}}
