{{/* Chart name, truncated to 63 characters (a DNS label). */}}
{{- define "apicache.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name prefix of every object: the release name, plus "-apicache" unless it already says so. */}}
{{- define "apicache.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "apicache.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "apicache.labels" -}}
helm.sh/chart: {{ include "apicache.chart" . }}
app.kubernetes.io/name: {{ include "apicache.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: apicache
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of the operator pods (stable across upgrades). */}}
{{- define "apicache.operatorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "apicache.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "apicache.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "apicache.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "apicache.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "apicache.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository[:tag|@digest]; the tag defaults to the chart's appVersion. */}}
{{- define "apicache.image" -}}
{{- $image := .image -}}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default .appVersion $image.tag) }}
{{- end }}
{{- end }}

{{- define "apicache.webhookServiceName" -}}
{{- printf "%s-webhook" (include "apicache.fullname" .) }}
{{- end }}

{{- define "apicache.webhookSecretName" -}}
{{- printf "%s-webhook-tls" (include "apicache.fullname" .) }}
{{- end }}

{{- define "apicache.webhookConfigurationName" -}}
{{- include "apicache.fullname" . }}
{{- end }}

{{- define "apicache.certificateName" -}}
{{- printf "%s-webhook" (include "apicache.fullname" .) }}
{{- end }}

{{/* cert-manager mode without an issuerRef: the chart's CA (Certificate, its Secret and its Issuer). */}}
{{- define "apicache.caCertificateName" -}}
{{- printf "%s-webhook-ca" (include "apicache.fullname" .) }}
{{- end }}

{{/*
The Certificate whose Secret's ca.crt becomes the webhook's caBundle (cert-manager.io/inject-ca-from):
the chart's CA, or with an issuerRef the serving Certificate (its ca.crt is the issuer's CA).
*/}}
{{- define "apicache.caInjectionSource" -}}
{{- if .Values.webhook.certificate.certManager.issuerRef }}
{{- include "apicache.certificateName" . }}
{{- else }}
{{- include "apicache.caCertificateName" . }}
{{- end }}
{{- end }}

{{- define "apicache.leaseName" -}}
{{- printf "%s-leader" (include "apicache.fullname" .) }}
{{- end }}

{{- define "apicache.redisName" -}}
{{- printf "%s-redis" (include "apicache.fullname" .) }}
{{- end }}

{{/*
"true" when the pods must leave runAsUser, runAsGroup and fsGroup to the cluster: on OpenShift, whose
restricted SCCs assign each namespace a UID/GID range and reject pods that pin IDs outside it
(openshift.adaptSecurityContext: auto detects it by the security.openshift.io/v1 API; force, disabled).
*/}}
{{- define "apicache.sccAssignsIds" -}}
{{- $mode := .Values.openshift.adaptSecurityContext }}
{{- if or (eq $mode "force") (and (eq $mode "auto") (.Capabilities.APIVersions.Has "security.openshift.io/v1")) }}
{{- print "true" }}
{{- end }}
{{- end }}

{{/*
The restricted Pod Security Standard, pod level: (dict "root" $ "id" UID). The image's numeric
non-root UID/GID is pinned, unless the cluster assigns them (apicache.sccAssignsIds); runAsNonRoot holds
either way (the images run as a numeric non-root USER).
*/}}
{{- define "apicache.podSecurityContext" -}}
runAsNonRoot: true
{{- if not (include "apicache.sccAssignsIds" .root) }}
runAsUser: {{ .id }}
runAsGroup: {{ .id }}
fsGroup: {{ .id }}
{{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The operator pod's terminationGracePeriodSeconds, derived from operator.shutdownDelaySeconds (also its
--shutdown-delay) so the two cannot disagree. On SIGTERM the operator stops its controller and hands the
Lease over (bounded by --renew-deadline, 10 s, plus reconciles in flight: 20 s allowed), keeps answering
the webhook for the delay, then waits for the reviews in flight (the API server drops one after
webhook.timeoutSeconds). The kubelet kills it after this many seconds.
*/}}
{{- define "apicache.terminationGracePeriodSeconds" -}}
{{- add (int .Values.operator.shutdownDelaySeconds) (int .Values.webhook.timeoutSeconds) 20 }}
{{- end }}

{{/* The restricted Pod Security Standard, container level. */}}
{{- define "apicache.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The operator's heap ceiling in MiB (empty: Node's default): operator.maxHeapMiB, or with "auto" 60% of
operator.resources.limits.memory when that is given in Mi or Gi.
*/}}
{{- define "apicache.operatorHeapMiB" -}}
{{- $value := toString .Values.operator.maxHeapMiB -}}
{{- if eq $value "auto" -}}
{{- $limit := toString (dig "limits" "memory" "" (.Values.operator.resources | default dict)) -}}
{{- if regexMatch "^[0-9]+Mi$" $limit -}}
{{- div (mul (trimSuffix "Mi" $limit | atoi) 3) 5 -}}
{{- else if regexMatch "^[0-9]+Gi$" $limit -}}
{{- div (mul (trimSuffix "Gi" $limit | atoi) 3072) 5 -}}
{{- end -}}
{{- else if regexMatch "^[0-9]+$" $value -}}
{{- if ne (atoi $value) 0 -}}{{ atoi $value }}{{- end -}}
{{- else -}}
{{- fail (printf "operator.maxHeapMiB must be auto, 0 or a number of MiB, not %q" $value) -}}
{{- end -}}
{{- end -}}
