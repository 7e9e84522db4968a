package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Options configure access to S3 or an S3-compatible server. Credentials
// never appear here: they come from the standard AWS chain (environment,
// shared config and credentials files, SSO, instance and task roles).
type S3Options struct {
	// Endpoint overrides the AWS endpoint, e.g. "http://127.0.0.1:7070".
	// Empty means AWS itself.
	Endpoint string
	// Region is the bucket's region; empty uses the chain's region, or
	// "us-east-1".
	Region string
	// PathStyle selects path-style addressing (bucket in the path), which
	// most S3-compatible servers need. A custom Endpoint implies it.
	PathStyle bool
}

// S3 is a Bucket over one bucket and key prefix.
type S3 struct {
	client *s3.Client
	bucket string
	prefix string // "" or ends with "/"
}

var _ Bucket = (*S3)(nil)

// NewS3 returns a Bucket for location "s3://bucket[/prefix]".
func NewS3(ctx context.Context, location string, opts S3Options) (*S3, error) {
	bucket, prefix, err := ParseS3URL(location)
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("s3 %s: load AWS configuration: %w", location, err)
	}
	if opts.Region != "" {
		cfg.Region = opts.Region
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle || opts.Endpoint != ""
		// S3-compatible servers differ in their support of the SDK's
		// default trailing checksums; send them only when required.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return &S3{client: client, bucket: bucket, prefix: prefix}, nil
}

// ParseS3URL splits "s3://bucket/some/prefix" into bucket and a prefix that
// is empty or ends with a slash.
func ParseS3URL(location string) (bucket, prefix string, err error) {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return "", "", fmt.Errorf("not an s3://bucket/prefix location: %q", location)
	}
	prefix = strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return u.Host, prefix, nil
}

// String returns the s3:// location.
func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// List pages through ListObjectsV2, which returns keys in UTF-8 binary
// order, the same order as Local.
func (s *S3) List(ctx context.Context, prefix string) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
			Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix + prefix),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield(Object{}, fmt.Errorf("list %s%s: %w", s, prefix, err))
				return
			}
			for _, o := range page.Contents {
				obj := Object{Key: strings.TrimPrefix(aws.ToString(o.Key), s.prefix), Size: aws.ToInt64(o.Size)}
				if o.LastModified != nil {
					obj.ModTime = *o.LastModified
				}
				if !yield(obj, nil) {
					return
				}
			}
		}
	}
}

// Open streams the object.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, fmt.Errorf("open %s%s: %w", s, key, ErrNotExist)
		}
		return nil, fmt.Errorf("open %s%s: %w", s, key, err)
	}
	return out.Body, nil
}

// Put uploads r; S3 makes an object visible only when the upload completes.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) error {
	up := manager.NewUploader(s.client)
	if _, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key), Body: r}); err != nil {
		return fmt.Errorf("put %s%s: %w", s, key, err)
	}
	return nil
}

// Open returns the Bucket for location: "s3://bucket/prefix" or a local
// folder (a plain path or file:// URL).
func Open(ctx context.Context, location string, opts S3Options) (Bucket, error) {
	switch {
	case strings.HasPrefix(location, "s3://"):
		return NewS3(ctx, location, opts)
	case strings.HasPrefix(location, "file://"):
		return NewLocal(strings.TrimPrefix(location, "file://"))
	case strings.Contains(location, "://"):
		return nil, fmt.Errorf("unsupported store location %q: use a folder or s3://bucket/prefix", location)
	default:
		return NewLocal(location)
	}
}
