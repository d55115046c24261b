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

{{- define "apicache.leaseName" -}}
{{- printf "%s-leader" (include "apicache.fullname" .) }}
{{- end }}

{{- define "apicache.redisName" -}}
{{- printf "%s-redis" (include "apicache.fullname" .) }}
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
